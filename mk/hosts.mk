# mk/hosts.mk — benchmarks across machines (scripts/hosts.sh, docs/hosts.md).
#
#   make bench SERVER_HOST=user@host LOAD_HOSTS="user@a user@b"   the server on one host, loadgen on the others,
#                         through ssh (key auth, BatchMode, one ControlMaster each; SSH_CONFIG=FILE for -F);
#                         the source shipped with git archive and built there. bench-churn, bench-latency, bench-c10k and bench-fetch take them too.
#
# The namespace hosts of tests/t_hosts.sh and scripts/netns-run.sh run sshd:
# openssh-server, installed like every other package (scripts/deps.sh).
.PHONY: deps-hosts
deps-hosts:
	@scripts/deps.sh ssh:openssh-client :openssh-server

# Churn at K = 1 (fork, prefork, pool) with the load from here, from one load
# host and from two, side by side (scripts/hosts-churn.sh): SERVER_HOST and two
# LOAD_HOSTS, or, as root, namespace hosts made on this machine.
.PHONY: bench-hosts-churn
bench-hosts-churn: all deps
	@scripts/hosts-churn.sh
