# mk/bench.mk — the benchmark runner's part of the build.
#
# bin/bench records the compiler flags of the build in results/*/meta.txt:
# hand it the flags this make uses (CFLAGS_USED in the environment overrides).
$(OBJ)/harness/bench.o: CFLAGS += -DBENCH_BUILD_FLAGS='"$(strip $(OPT) $(SAN))"'
