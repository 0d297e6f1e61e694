# mk/sweeps.mk — the two workloads that tell the models apart
# (scripts/bench-churn.sh, scripts/bench-work.sh, both over bin/bench and
# scripts/sweep.sh). docs/churn-work.md is the lesson.
#
#   make bench-churn        connection churn: conns/s and CPU per connection at K = 1, 10, 100 messages per connection, every model: results/churn/ (~3 min; env CHURN_SECS CHURN_REPS CHURN_K CHURN_CONNS CHURN_MODELS CHURN_OUT)
#   make bench-work         CPU work per message: throughput and cores used at 0, 10, 100, 1000 us (calibrated), every model: results/work/ (~3.5 min; env WORK_SECS WORK_REPS WORK_US WORK_CONNS WORK_MODELS WORK_OUT)

.PHONY: bench-churn bench-work

bench-churn: all deps
	@BIN=$(BIN) scripts/bench-churn.sh

bench-work: all deps
	@BIN=$(BIN) scripts/bench-work.sh
