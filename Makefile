# The two commands from the README. CI runs `make test` (see .ci/run).
.PHONY: up test test-faults

up:  ## the main job: local stack, worker, watcher, API; ingests seeds/
	scripts/bootstrap.sh
	.venv/bin/dropsift up

test:  ## the whole test suite on the real Redis and Elasticsearch
	scripts/test.sh

test-faults:  ## only the fault suite (tests/faults): real processes under injected faults
	scripts/test.sh -m faults
