# mk/mutants.mk — mutation testing: can the tests see a bug?
#
#   make mutants    seed each bug of tests/mutants.txt into a copy of the tree, run the suites
#                   that should catch it, report killed/survived/stale (MUTANTS="a b" for some)
#   make mutants-check  only check that every seeded bug still applies (its text found once)
#
# Not part of `make test`: it rebuilds and reruns suites once per mutant (tens
# of minutes). scripts/mutants.sh says how; docs/testing.md gives the score.
.PHONY: mutants mutants-check
MUTANTS ?=
mutants:
	@scripts/mutants.sh $(MUTANTS)
mutants-check:
	@scripts/mutants.sh --check $(MUTANTS)
