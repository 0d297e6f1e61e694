# mk/hosts.mk — benchmarks across machines (scripts/hosts.sh, docs/hosts.md).
#
#   make bench SERVER_HOST=user@host LOAD_HOSTS="user@a user@b"   the server on one host, loadgen on the others,
#                         through ssh (key auth, BatchMode, one ControlMaster each; SSH_CONFIG=FILE for -F);
#                         the source shipped with git archive and built there. bench-churn and bench-fetch take them too.
#
# The namespace hosts of tests/t_hosts.sh and scripts/netns-run.sh run sshd:
# openssh-server, installed like every other package (scripts/deps.sh).
.PHONY: deps-hosts
deps-hosts:
	@scripts/deps.sh ssh:openssh-client :openssh-server
