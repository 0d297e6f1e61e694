# c10k-lab — everything runs from here. `make help` lists the targets.
#
#   make            build every program into bin/
#   make test       build, then run every test (unit + end to end, real sockets)
#   make bench      the default echo comparison: results/latest/ + charts + summary
#   make report     results/latest/REPORT.md and REPORT.html: every chart, the summaries, the comparisons (RUN=dir for another run)
#   make table      regenerate docs/table.md from results/reference
#   make reference  redo the committed reference run in results/reference (~35 min; ~50 with PEERS=1)
#   make models     list the models of the registry (models/*/about.txt) and their programs
#
# Build layout: objects in $(OBJ), programs in $(BIN), test programs in $(TBIN).
# `make test-sanitize` rebuilds the same sources under build/asan and build/tsan.

CC      ?= cc
OPT     ?= -O2 -g
SAN     ?=
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS_ALL = -std=gnu11 $(OPT) $(WARN) $(SAN) -D_GNU_SOURCE -Imodels/common -Iruntime -Iharness/lib $(CFLAGS)
LDLIBS_ALL = $(SAN) -flto=auto -pthread -lm $(LDLIBS)
# The build's flags, for every benchmark's meta.txt (scripts/meta.sh).
export C10K_FLAGS := $(strip $(OPT) $(SAN))

BIN  ?= bin
OBJ  ?= build/obj
TBIN ?= build/tests

# The models, from the registry (scripts/models.sh): every folder models/NAME/
# with echo.c, fetch.c and about.txt. Nothing here names a model.
REGISTRY_MODELS := $(shell scripts/models.sh)
PROGRAMS_ECHO  := $(foreach m,$(REGISTRY_MODELS),$(BIN)/echo-$(m))
PROGRAMS_FETCH := $(foreach m,$(REGISTRY_MODELS),$(BIN)/fetch-$(m))
PROGRAMS_MODEL := $(PROGRAMS_ECHO) $(PROGRAMS_FETCH)
PROGRAMS_HARNESS := $(patsubst harness/%.c,$(BIN)/%,$(wildcard harness/*.c))
PROGRAMS_DEMO := $(patsubst demos/%.c,$(BIN)/demo-%,$(wildcard demos/*.c))
PROGRAMS_MICRO := $(patsubst micro/%.c,$(BIN)/micro-%,$(wildcard micro/*.c))
PROGRAMS := $(PROGRAMS_MODEL) $(PROGRAMS_HARNESS) $(PROGRAMS_DEMO) $(PROGRAMS_MICRO)
TESTPROGS := $(patsubst tests/%.c,$(TBIN)/%,$(wildcard tests/*.c))

LIBCOMMON := $(OBJ)/libcommon.a
COMMON_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(wildcard models/common/*.c))

# The coroutine runtime, runtime/ (docs/runtime.md): a core every backend
# shares, and one library per backend, $(OBJ)/libco-B.a = the core +
# runtime/B.c + runtime/B_*.c. A backend is the file of runtime/ defining
# co__backend_init (backend.h): epoll, uring. A model picks one in its
# about.txt (`runtime: B`); the demos, micro-benchmarks and tests use epoll.
RT_BACKENDS := $(sort $(basename $(notdir $(shell grep -l '^int co__backend_init' runtime/*.c))))
rt_backend_src = runtime/$(1).c $(wildcard runtime/$(1)_*.c)
RT_CORE_SRC := $(filter-out $(foreach b,$(RT_BACKENDS),$(call rt_backend_src,$(b))),$(wildcard runtime/*.c)) \
               $(wildcard runtime/*.S)
RT_CORE_OBJ := $(patsubst %,$(OBJ)/%.o,$(basename $(RT_CORE_SRC)))
libco = $(OBJ)/libco-$(1).a
LIBCO := $(call libco,epoll)
# The runtime is one concern per file, but a switch crosses three of them
# (co.c -> sched.c -> switch.c): compiled for link-time optimisation, the
# calls between them are inlined again where they were when it was one file
# (docs/runtime.md, "Splitting the runtime"). -ffat-lto-objects keeps plain
# code in the objects too, so a link without -flto works all the same.
RT_LTO := -flto=auto -ffat-lto-objects
$(OBJ)/runtime/%.o: CFLAGS_ALL += $(RT_LTO)
# What the harness, the demos and the tests share and no model uses.
LIBHARNESS := $(OBJ)/libharness.a
HARNESS_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(wildcard harness/lib/*.c))

.PHONY: all test test-deps test-sanitize bench charts report reference table clean help deps models
.DEFAULT_GOAL := all
.SECONDARY:  # keep objects between builds

all: $(PROGRAMS) $(TESTPROGS)

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(OBJ)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(LIBCOMMON): $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

define RT_LIBRARY
$(call libco,$(1)): $(RT_CORE_OBJ) $(patsubst %.c,$(OBJ)/%.o,$(call rt_backend_src,$(1)))
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach b,$(RT_BACKENDS),$(eval $(call RT_LIBRARY,$(b))))

$(LIBHARNESS): $(HARNESS_OBJ)
	@rm -f $@ && mkdir -p $(dir $@)
	ar rcs $@ $^

# A model's programs, bin/echo-NAME and bin/fetch-NAME, are built from the
# echo.c and fetch.c of its folder, or of the model its about.txt names
# (`programs: loop`: the same source, compiled once per model), with
# $(OBJ)/models/NAME/model.h (scripts/models.sh --header: its name and
# registry fields). They link the shared code, the runtime library of the
# backend it picks (`runtime: epoll`), and any other .c/.S file of its own
# folder (proto's tasks.c). One rule for every model; the harness links no
# model. A model needing a library names it in its about.txt (`ldlibs:
# -luring`), linked into its two programs only, and the Debian packages it
# builds with (`packages: liburing-dev`): its objects wait for
# scripts/deps.sh to have them (installed when root, else the apt-get line).
model_runtime_src = $(filter-out models/$(1)/echo.c models/$(1)/fetch.c,$(wildcard models/$(1)/*.c models/$(1)/*.S))
model_runtime = $(patsubst %,$(OBJ)/%.o,$(basename $(call model_runtime_src,$(1))))
define MODEL_PROGRAMS
MODEL_SRC_$(1) := $(shell scripts/models.sh --programs $(1))
MODEL_RT_$(1) := $(shell scripts/models.sh --about $(1) runtime)
MODEL_LIBCO_$(1) := $$(if $$(MODEL_RT_$(1)),$$(call libco,$$(MODEL_RT_$(1))))
$(OBJ)/models/$(1)/model.h: models/$(1)/about.txt scripts/models.sh
	@mkdir -p $$(dir $$@)
	scripts/models.sh --header $(1) >$$@
$(OBJ)/models/$(1)/echo.o: $$(MODEL_SRC_$(1))/echo.c $(OBJ)/models/$(1)/model.h
	$$(CC) $$(CFLAGS_ALL) -I$(OBJ)/models/$(1) -MMD -MP -c -o $$@ $$<
$(OBJ)/models/$(1)/fetch.o: $$(MODEL_SRC_$(1))/fetch.c $(OBJ)/models/$(1)/model.h
	$$(CC) $$(CFLAGS_ALL) -I$(OBJ)/models/$(1) -MMD -MP -c -o $$@ $$<
$(BIN)/echo-$(1): $(OBJ)/models/$(1)/echo.o $(call model_runtime,$(1)) $$(MODEL_LIBCO_$(1)) $(LIBCOMMON)
$(BIN)/fetch-$(1): $(OBJ)/models/$(1)/fetch.o $(call model_runtime,$(1)) $$(MODEL_LIBCO_$(1)) $(LIBCOMMON)
$(BIN)/echo-$(1) $(BIN)/fetch-$(1) $(TBIN)/unit_$(1): MODEL_LDLIBS := $(shell scripts/models.sh --about $(1) ldlibs)
$(if $(wildcard tests/unit_$(1).c),$$(if $$(MODEL_LIBCO_$(1)),$(TBIN)/unit_$(1): $$(MODEL_LIBCO_$(1))))
$(if $(wildcard tests/unit_$(1).c),$$(if $$(MODEL_LIBCO_$(1)),$(TBIN)/unit_$(1): TEST_LIBCO := $$(MODEL_LIBCO_$(1))))
MODEL_PACKAGES_$(1) := $(shell scripts/models.sh --about $(1) packages)
$(OBJ)/models/$(1)/echo.o $(OBJ)/models/$(1)/fetch.o $(OBJ)/tests/unit_$(1).o $(call model_runtime,$(1)) $$(if $$(MODEL_RT_$(1)),$$(patsubst %.c,$(OBJ)/%.o,$$(call rt_backend_src,$$(MODEL_RT_$(1))))): | $$(if $$(MODEL_PACKAGES_$(1)),model-deps-$(1))
endef
$(foreach m,$(REGISTRY_MODELS),$(eval $(call MODEL_PROGRAMS,$(m))))
$(PROGRAMS_MODEL):
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(MODEL_LDLIBS) $(LDLIBS_ALL)
model-deps-%:
	@scripts/deps.sh $(addprefix :,$(MODEL_PACKAGES_$*))

# The demos, micro-benchmarks and tests use the runtime over epoll (LIBCO).
$(BIN)/demo-%: $(OBJ)/demos/%.o $(LIBCO) $(LIBHARNESS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDLIBS_ALL)

# Micro-benchmarks measure the models' building blocks, the runtime included.
$(BIN)/micro-%: $(OBJ)/micro/%.o $(LIBCO) $(LIBHARNESS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDLIBS_ALL)

$(BIN)/%: $(OBJ)/harness/%.o $(LIBHARNESS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDLIBS_ALL)

# A model's own unit test, tests/unit_NAME.c, links the runtime library of
# the model's backend instead of LIBCO, and the model's ldlibs.
TEST_LIBCO = $(LIBCO)
$(TBIN)/%: $(OBJ)/tests/%.o $(LIBCO) $(LIBHARNESS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(TEST_LIBCO) $(LIBHARNESS) $(LIBCOMMON) $(MODEL_LDLIBS) $(LDLIBS_ALL)

# Dependency files, but not those whose source is gone (a file moved, as
# models/loops/echo.c did): make would stop with "no rule to make" it.
-include $(shell find $(OBJ) -name '*.d' 2>/dev/null | xargs -r awk 'FNR == 1 { split($$0, t, ":"); split(t[2], s, " "); if (s[1] == "" || (getline x < s[1]) >= 0) print FILENAME; close(s[1]) }')

# --- Debian packages the suite uses (installed when root, else printed) ----------
deps:
	@scripts/deps.sh gnuplot:gnuplot-nox hyperfine:hyperfine curl:curl $(addprefix :,$(foreach m,$(REGISTRY_MODELS),$(MODEL_PACKAGES_$(m))))

test: all deps deps-hosts peers test-deps
	@tests/run.sh

# tests/t_report.sh renders REPORT.html in headless Chromium (its browser
# checks are skipped, one line each, where it cannot be installed).
test-deps:
	@scripts/deps.sh chromium:chromium || echo "make: no chromium: tests/t_report.sh skips its browser checks"

# AddressSanitizer + UndefinedBehaviorSanitizer for every model, then
# ThreadSanitizer for the models that run threads: those whose unit is a
# thread, and those over the coroutine runtime (loops runs a loop per thread;
# co_offload's workers are threads in all of them). The runtime tells TSan of
# every coroutine switch (runtime/san.h: a TSan fiber per coroutine), so it
# follows them; fork and prefork (processes) are ASan's.
test-sanitize: deps
	$(MAKE) BIN=build/asan/bin OBJ=build/asan/obj TBIN=build/asan/tests \
	        OPT='-O1 -g -fno-omit-frame-pointer' SAN='-fsanitize=address,undefined -fno-sanitize-recover=all'
	BIN=build/asan/bin TBIN=build/asan/tests SANITIZER=asan tests/run.sh
	$(MAKE) BIN=build/tsan/bin OBJ=build/tsan/obj TBIN=build/tsan/tests \
	        OPT='-O1 -g' SAN='-fsanitize=thread'
	BIN=build/tsan/bin TBIN=build/tsan/tests SANITIZER=tsan \
	  MODELS="$$(for m in $$(scripts/models.sh); do [ "$$(scripts/models.sh --about $$m unit)" != thread ] && [ -z "$$(scripts/models.sh --about $$m runtime)" ] || printf '%s ' $$m; done)" \
	  tests/run.sh

bench: all deps
	@scripts/bench-echo.sh

charts: deps
	@scripts/charts.sh results/latest

# REPORT.md and REPORT.html beside a run's results: every chart, the summary tables,
# the comparisons with their intervals, the metadata.
RUN ?= results/latest
report:
	@scripts/report.sh $(RUN)

# The committed reference run, made again (every benchmark, ~35 minutes).
reference: all deps
	@scripts/reference.sh

# The processes / threads / coroutines table in docs/, from the reference run.
table: $(BIN)/bench
	scripts/table.sh results/reference > docs/table.md

clean:
	rm -rf bin build

# The registry as the build sees it: one line per model, its programs.
models:
	@$(foreach m,$(REGISTRY_MODELS),echo "$(m): $(BIN)/echo-$(m) $(BIN)/fetch-$(m) - programs: $(MODEL_SRC_$(m))/ - runtime: $(or $(MODEL_RT_$(m)),none) - own code: $(or $(strip $(call model_runtime_src,$(m))),none)";)

help:
	@grep -h '^#   make ' Makefile mk/*.mk | sed 's/^#   //'

# Each part of the suite may add its own targets in mk/<part>.mk.
-include $(sort $(wildcard mk/*.mk))
