# Two commands do everything (see README.md):
#   make demo   a real demo: dserver on 127.0.0.1 with generated keys,
#               then tailing, grepping and aggregating a generated log
#   make test   every test: vet, race-enabled unit and end-to-end tests,
#               short fuzz runs, and a build of every binary
.PHONY: demo test build fuzz bench

build:
	go build -o bin/ ./cmd/...

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

fuzz:
	FUZZTIME=60s bash scripts/fuzz.sh

bench:
	bash bench/serverless.sh
