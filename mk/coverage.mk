# mk/coverage.mk — line and branch coverage of the whole test suite (gcov, gcovr).
#
#   make coverage     build every program and test with --coverage under build/cov,
#                     run every test (tests/run.sh) on that build, and write
#                     build/cov/html/index.html (line and branch coverage per file,
#                     each file's lines marked) and build/cov/summary.txt (the
#                     figures per part: models/common, the runtime, each model,
#                     the harness); exits non-zero if a test failed
#
# -O0, so that a line is a line; atomic counters, so that threads do not race on
# them (a raced count can come out negative, which gcovr refuses); every timeout x3 (TEST_TIMEOUT_SCALE): the
# instrumented programs are slower. The counts of a run start from zero.
# Processes that end with _exit() (fork's and prefork's children) write their
# counts through tests/cov/gcov_exit.c; one killed by a signal (SIGKILL after
# a stop timeout) loses its own. Needs Debian's gcovr (installed when root).

COV_DIR  := build/cov
COV_VARS := BIN=$(COV_DIR)/bin OBJ=$(COV_DIR)/obj TBIN=$(COV_DIR)/tests OPT='-O0 -g --coverage -fprofile-update=atomic'
COV_EXIT := $(COV_DIR)/obj/tests/cov/gcov_exit.o

.PHONY: coverage
coverage:
	@scripts/deps.sh gcovr:gcovr gnuplot:gnuplot-nox hyperfine:hyperfine curl:curl
	$(MAKE) $(COV_VARS) $(COV_EXIT)
	$(MAKE) $(COV_VARS) LDLIBS='--coverage -Wl,--wrap=_exit $(COV_EXIT)' all peers
	find $(COV_DIR)/obj -name '*.gcda' -delete
	{ BIN=$(COV_DIR)/bin TBIN=$(COV_DIR)/tests TEST_TIMEOUT_SCALE=3 tests/run.sh; echo $$? >$(COV_DIR)/tests.rc; } | \
	  tee $(COV_DIR)/tests.log
	scripts/coverage.sh $(COV_DIR)
	@exit $$(cat $(COV_DIR)/tests.rc)
