# The two commands of README.md. Each sets up what it needs first (quick when already set up).
PY ?= python3

.PHONY: verify test setup lint unit db deploy
setup:
	./scripts/bootstrap

verify: setup
	$(PY) -m tox -q -e verify

test: setup
	$(PY) -m tox -q

lint unit db deploy: setup
	$(PY) -m tox -q -e $@
