# mk/offload.mk — co_offload (models/loop/offload.c): CPU work on a pool of
# worker threads while a coroutine waits. It is part of the loop runtime
# (libco) for the demos, micro-benchmarks and tests; echo-loop and fetch-loop
# link it through the model rule (every .c of models/loop/).
$(LIBCO): $(OBJ)/models/loop/offload.o
