# The two commands of the README. Both set up a fresh machine first (scripts/bootstrap.sh).
.PHONY: run test test-fast bootstrap bench stop

run:
	@scripts/bootstrap.sh run
	.venv/bin/gridmap serve

test:
	@scripts/bootstrap.sh test
	.venv/bin/python -m pytest $(PYTEST_ARGS)

# The quick lane while working: everything but the browser and slow tests.
test-fast:
	@scripts/bootstrap.sh test
	.venv/bin/python -m pytest -m "not browser and not slow" $(PYTEST_ARGS)

stop:
	.venv/bin/gridmap db stop
