# The two commands: `make demo` and `make test`. Both install what is missing first.
.PHONY: setup build demo test bench protos protos-check clean

setup:
	scripts/setup.sh

build: setup
	swift build

demo: build
	scripts/demo.sh

# Every test: unit, transcoder (checked by Python's xds-protos), HTTP/2 + gRPC on real
# sockets, and integration tests against a real Envoy 1.40. Also checks that the
# committed C in Sources/CEnvoyAPI is what Protos/generate.py produces, and fuzzes the REST
# API against its OpenAPI document with schemathesis (seeded, bounded; scripts/schemathesis.sh).
test: setup
	.venv-protos/bin/python Protos/generate.py --check
	swift build --build-tests
	scripts/schemathesis.sh
	scripts/run-tests.sh

# Every benchmark in release mode, one table (docs/performance.md). Not part of `make test`:
# figures are measured, never asserted.
bench: setup
	scripts/bench.sh

protos: setup
	.venv-protos/bin/python Protos/generate.py

clean:
	rm -rf .build
