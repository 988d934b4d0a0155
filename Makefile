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

# Release engineering (build/, packaging/, docs/INSTALL.md):
#   make release    static -trimpath builds for linux amd64/arm64 (all
#                   binaries) and darwin amd64/arm64 (clients) into dist/,
#                   tar.gz per platform, dist/SHA256SUMS
#   make packages   dtail-server and dtail-clients .deb and .rpm for linux
#                   amd64 and arm64 into dist/ (nfpm, run with go run)
#   make man        man pages and bash/zsh/fish completions generated from
#                   the flag sets into dist/man/ and dist/completions/
.PHONY: release packages man

release:
	bash build/release.sh

packages:
	bash build/packages.sh

man:
	go run ./build/gendocs -out dist
