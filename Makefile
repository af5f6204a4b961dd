# The two commands of the README. Both set up a fresh machine first (scripts/bootstrap.sh).
.PHONY: run test test-fast bootstrap bench stop

run:
	@scripts/bootstrap.sh run
	.venv/bin/gridmap serve

test:
	@scripts/bootstrap.sh test
	.venv/bin/python -m pytest $(PYTEST_ARGS)

# The quick lane while working (under a minute on 2 cores): the domain, the API and the layering, without
# the browser and the slow tests, on two pytest-xdist workers. `make test` runs everything.
test-fast:
	@scripts/bootstrap.sh test
	.venv/bin/python -m pytest tests/geo tests/api tests/test_architecture.py -m "not browser and not slow" \
		-n 2 --dist load $(PYTEST_ARGS)

stop:
	.venv/bin/gridmap db stop
