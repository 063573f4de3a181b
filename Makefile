# The two commands of README.md. Each sets up what it needs first (quick when already set up).
# scripts/bootstrap installs tox into .bootstrap/ (a venv); tox builds the test environment (.tox/gate) from it.
TOX ?= .bootstrap/bin/tox

.PHONY: verify test setup lint unit db deploy docker
setup:
	./scripts/bootstrap

verify: setup
	$(TOX) -q -e verify

test: setup
	$(TOX) -q -p all -o

lint unit db deploy docker: setup
	$(TOX) -q -e $@
