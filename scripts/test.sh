#!/usr/bin/env bash
# The whole suite, as `make test` runs it: go vet and the tests under the
# race detector in every module of the repository (the library at the
# root, bench/ and interop/, which have their own go.mod so that a user of
# the library pulls none of their dependencies), then every fuzz target
# for $1 (default 3s) each.
#
# io_uring: the transport and router suites run a second time with
# TAGWAMP_IO_URING=off (the first run writes with io_uring where the
# kernel allows it), and a third with TAGWAMP_POLLER=easygo (the read
# path over mailru/easygo's epoll).
#
# The interop tests drive node clients and headless Chromium. Where those
# are missing they skip, and this script says so in one line with the
# command that enables them; under CI=true they fail instead (.ci/run
# installs them).
set -euo pipefail
go=${GO:-go}
fuzztest=${1:-3s}
cd "$(dirname "$0")/.."

missing=()
command -v node >/dev/null 2>&1 || missing+=("node (apt-get install nodejs npm)")
[ -d interop/node_modules/wamp1 ] || missing+=("the pinned WAMP v1 clients (npm ci --prefix interop)")
[ -d interop/node_modules/playwright-core ] || missing+=("playwright-core, which drives the demo page (npm ci --prefix interop)")
command -v chromium >/dev/null 2>&1 || missing+=("chromium (apt-get install chromium)")
command -v php >/dev/null 2>&1 || missing+=("php (apt-get install php-cli)")
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || missing+=("nats-server (apt-get install nats-server)")
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${CI:-}" = true ]; then
    echo "test: missing under CI: ${missing[*]}" >&2
    exit 1
  fi
  echo "test: the interop tests that need them will skip; missing: ${missing[*]}"
fi

for mod in . bench interop; do
  echo "== module $mod"
  (cd "$mod" && "$go" vet ./... && "$go" test -race -shuffle=on -count=1 -timeout=10m ./...)
done
# The write path again with io_uring off (the run above has it on, the
# default, where the kernel allows it): the transport and the router
# suites over both paths.
echo "== io_uring off: internal/wsconn, router"
TAGWAMP_IO_URING=off "$go" test -race -shuffle=on -count=1 -timeout=10m ./internal/wsconn ./router
# The read path again over mailru/easygo's epoll (TAGWAMP_POLLER,
# router.Options.Poller): the transport and the router suites.
echo "== poller easygo: internal/wsconn, router"
TAGWAMP_POLLER=easygo "$go" test -race -shuffle=on -count=1 -timeout=10m ./internal/wsconn ./router
GO="$go" scripts/fuzz.sh "$fuzztest"
