#!/usr/bin/env bash
# gofmt, go vet, staticcheck, and the package layering: a lower package never
# imports a higher one. protocol and tagindex import nothing of ours (tagindex
# only the standard library), router never imports handlers, cmd, client or
# cluster (nats.go enters through cluster alone);
# internal/wstest and internal/leakcheck are for _test.go files only.
set -euo pipefail
cd "$(dirname "$0")/.."
mod=github.com/tagwamp/tagwamp
bad=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$bad" ]; then echo "gofmt would change: $bad"; exit 1; fi
for m in . bench interop; do # every module: the library, the harness, the interop tests
  (cd "$m" && go vet ./... && go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...)
done
fail=0
check() { # package, forbidden import pattern
  if go list -deps "$mod/$1" | grep -E "$2" | grep -v "^$mod/$1\$"; then
    echo "lint: $1 must not depend on the packages above"; fail=1
  fi
}
check protocol "^$mod/"
check tagindex "^$mod/|^github.com/|^golang.org/|^gopkg.in/"
check router "^$mod/(handlers|client|cmd|cluster)|^github.com/nats-io/"
check cluster "^$mod/(handlers|client|cmd|httpapi|forward|auth)"
check client "^$mod/(router|handlers|cmd)|^gonum.org/|HdrHistogram"
check auth "^$mod/(handlers|client|cmd)"
check httpapi "^$mod/(handlers|client|cmd)"
check forward "^$mod/(handlers|client|cmd|httpapi)"
check internal/wstest "^$mod/"
check internal/leakcheck "^$mod/"
check internal/logval "^$mod/"
check internal/wsconn "^$mod/([^i]|internal/[^u])" # internal/uring alone
check internal/uring "^$mod/|^github.com/"
check internal/lograte "^$mod/"
# internal/wstest is a test client: only _test.go files import it (.Imports
# lists the imports of a package's non-test files).
if go list -f '{{.ImportPath}}: {{join .Imports " "}}' ./... | grep -E " $mod/internal/(wstest|leakcheck)( |\$)"; then
  echo "lint: internal/wstest and internal/leakcheck must be imported by _test.go files only"; fail=1
fi
# nats.go enters through package cluster alone.
if go list -f '{{.ImportPath}}: {{join .Imports " "}}' ./... | grep -v "^$mod/cluster:" | grep -E " github.com/nats-io/"; then
  echo "lint: only package cluster imports nats.go"; fail=1
fi
exit $fail
