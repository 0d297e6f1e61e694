# mk/fetchd.mk — targets of bin/fetchd, the HTTP target server (docs/fetchd.md).
#
#   make fetchd-capacity   fetchd's capacity under wrk: the figures in docs/fetchd.md (about 35 s)

.PHONY: fetchd-capacity

# scripts/fetchd-capacity.sh starts fetchd on a free port, runs each wrk
# command for 5 s and stops fetchd by its PID (scripts/lib.sh).
fetchd-capacity: $(BIN)/fetchd
	@scripts/deps.sh wrk:wrk
	@BIN=$(BIN) scripts/fetchd-capacity.sh
