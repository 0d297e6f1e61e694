# mk/units.mk — unit costs: create a process, a thread, a coroutine; keep one
# alive; switch between two (micro/unitcost.c -> bin/micro-unitcost, built by
# the Makefile's generic micro rule). docs/unit-costs.md is the lesson.
#
#   make bench-units   results/units/units.csv + meta.txt + units.png/.svg (under a minute)
#                      (env: COUNT SWITCHES REPS LIVE OUT, see scripts/bench-units.sh)

.PHONY: bench-units

bench-units: $(BIN)/micro-unitcost deps
	@BIN=$(BIN) scripts/bench-units.sh
