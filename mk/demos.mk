# mk/demos.mk — the classroom demonstrations (demos/*.c -> bin/demo-NAME).
#
#   make demo              list the demos, one line each
#   make demo-NAME         build and run one, e.g. make demo-schedule
#   make demo-NAME ARGS='--model loop'   pass flags to it
#
# Each demo is built by the generic rule bin/demo-% in the Makefile; a demo
# that drives another program (c10k: the echo servers, timeout: fetchd)
# depends on it here too. The lessons are in docs/demos/.

DEMOS := $(patsubst demos/%.c,%,$(wildcard demos/*.c))
ARGS  ?=

.PHONY: demo $(addprefix demo-,$(DEMOS))

demo:
	@scripts/demo.sh

$(addprefix demo-,$(DEMOS)): demo-%: $(BIN)/demo-%
	@BIN=$(BIN) scripts/demo.sh $* $(ARGS)

# Programs some demos start: demo-c10k any model's echo server, demo-timeout fetchd.
demo-c10k: $(PROGRAMS_ECHO)
demo-timeout: $(BIN)/fetchd
demo-c10k: deps-demos
demo-spawn: deps-demos

.PHONY: deps-demos
deps-demos:
	@scripts/deps.sh gnuplot:gnuplot-nox hyperfine:hyperfine
