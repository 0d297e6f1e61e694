# mk/fuzz.mk — libFuzzer targets for the parsers (tests/fuzz/, docs/testing.md).
#
#   make fuzz          build every target with ASan+UBSan under build/fuzz and run
#                      each for FUZZ_SECS seconds (default 60) from its seed corpus
#   make fuzz-build    only build them
#   make fuzz-NAME     run one, e.g. make fuzz-http_resp FUZZ_SECS=600
#
# Needs clang with libFuzzer (Debian: clang, libclang-rt-14-dev). A target that
# finds a crash stops, leaves the input in build/fuzz/crash-*, and fails make.
# New inputs the fuzzer finds go to build/fuzz/corpus/NAME (not committed);
# the hand-written seeds are tests/fuzz/corpus/NAME/.

FUZZ_CC    ?= clang
FUZZ_SECS  ?= 60
FUZZ_DIR   := build/fuzz
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS  := $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_NAMES))
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
               -Wall -Wextra -Werror -Wno-unused-parameter -Imodels/common -Iharness/lib
# The parsers under test, linked straight from their sources.
FUZZ_SRCS  := models/common/http.c harness/lib/fetchd_parse.c

.PHONY: fuzz fuzz-build $(addprefix fuzz-,$(FUZZ_NAMES))

fuzz-build: $(FUZZ_BINS)

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_SRCS) models/common/flags.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRCS) -lm

$(addprefix fuzz-,$(FUZZ_NAMES)): fuzz-%: $(FUZZ_DIR)/fuzz_%
	@mkdir -p $(FUZZ_DIR)/corpus/$*
	cd $(FUZZ_DIR) && ./fuzz_$* -max_total_time=$(FUZZ_SECS) -print_final_stats=1 \
	    -artifact_prefix=./ corpus/$* ../../tests/fuzz/corpus/$*

fuzz: $(addprefix fuzz-,$(FUZZ_NAMES))

# The same targets without libFuzzer, for `make test`: $(TBIN)/replay_NAME is
# tests/fuzz/fuzz_NAME.c linked with tests/fuzz/replay.c, a main() that feeds
# it the files it is given. Built like every test program (with the
# sanitizers under make test-sanitize); tests/t_fuzz.sh replays the seeds
# (tests/fuzz/corpus/NAME/) and the saved crash inputs (tests/fuzz/crashes/NAME/).
FUZZ_REPLAYS := $(addprefix $(TBIN)/replay_,$(FUZZ_NAMES))
all: $(FUZZ_REPLAYS)
$(TBIN)/replay_%: $(OBJ)/tests/fuzz/fuzz_%.o $(OBJ)/tests/fuzz/replay.o $(LIBHARNESS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDLIBS_ALL)
