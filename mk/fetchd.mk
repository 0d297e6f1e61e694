# mk/fetchd.mk — targets of bin/fetchd, the HTTP target server (docs/fetchd.md).
#
#   make fetchd-capacity   fetchd's capacity under wrk: the figures in docs/fetchd.md (about 35 s)

.PHONY: fetchd-capacity

# Start fetchd on a free port, run each wrk command for 5 s, stop fetchd by
# its PID. Nothing is pinned; see docs/fetchd.md for the pinned variant.
fetchd-capacity: $(BIN)/fetchd
	@scripts/deps.sh wrk:wrk
	@bash -c 'set -u; out=$$(mktemp); $(BIN)/fetchd --port 0 >"$$out" & pid=$$!; \
	  trap "kill $$pid 2>/dev/null; wait $$pid; rm -f $$out" EXIT; \
	  for _ in $$(seq 50); do grep -q "^listening on " "$$out" && break; sleep 0.1; done; \
	  u=http://$$(sed -n "s/^listening on //p" "$$out"); \
	  w() { echo "### wrk $$*"; wrk "$$@" | grep -E "Latency|requests in|Requests/sec|Transfer/sec|errors|Non-2xx"; }; \
	  echo "machine: $$(nproc) cores, $$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2), kernel $$(uname -r)"; \
	  w -t1 -c100 -d5s "$$u/bytes/64"; \
	  w -t1 -c100 -d5s -H "Connection: close" "$$u/bytes/64"; \
	  w -t1 -c10 -d5s "$$u/bytes/1048576"; \
	  w -t1 -c100 -d5s "$$u/bytes/65536?chunked=1"; \
	  w -t1 -c1000 -d5s "$$u/bytes/64?delay_ms=50"; \
	  w -t2 -c10000 -d5s --timeout 10s "$$u/bytes/64?delay_ms=1000"; \
	  echo "fetchd peak RSS: $$(sed -n "s/^VmHWM:\s*//p" /proc/$$pid/status)"'
