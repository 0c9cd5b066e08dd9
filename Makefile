# tagwamp: every target is one line or one script; CI runs `make test`.
GO       ?= go
FUZZTIME ?= 30s
FUZZTEST ?= 3s
PKGS     := ./...
SUITE    ?= standard

.PHONY: run test bench bench-micro fuzz lint fmt

run: ## serve on 127.0.0.1:8080 with the zero-config defaults (the demo page is http://127.0.0.1:8080/); ADDR=host:port listens there instead
	$(GO) run ./cmd/tagwamp $(if $(ADDR),-addr $(ADDR))

test: ## vet and the whole suite under the race detector in every module, then every fuzz target for FUZZTEST each
	GO=$(GO) scripts/test.sh $(FUZZTEST)

bench: ## load harness, tagwamp and the peer, SUITE=standard (or smoke): a new folder bench/runs/<UTC time>/ (table.txt, log.txt, results.json, charts/); UPDATE=1 also writes the committed bench/results.json and bench/charts/; BENCHFLAGS adds flags (-port-base 24000, -root DIR)
	ulimit -n $$(ulimit -Hn) && cd bench && $(GO) run ./cmd/tagwamp-bench -suite $(SUITE) -out runs/$$(date -u +%Y%m%dT%H%M%SZ)$(if $(filter-out standard,$(SUITE)),-$(SUITE)) $(if $(UPDATE),-update) $(BENCHFLAGS)

bench-micro: ## hot-path Go benchmarks (figures in bench/RESULTS.md)
	$(GO) test -run='^$$' -bench=. -benchmem ./protocol ./tagindex ./router ./internal/wsconn ./auth && cd bench && $(GO) test -run='^$$' -bench=. -benchmem ./internal/wire

fuzz: ## every fuzz target for FUZZTIME each (FUZZ=regexp to pick some)
	GO=$(GO) scripts/fuzz.sh $(FUZZTIME) $(FUZZ)

lint: ## gofmt, vet, staticcheck and the package dependency rules
	scripts/lint.sh

fmt:
	gofmt -w .
