#!/usr/bin/env bash
# bench/million.sh: idle WAMP sessions by the hundred thousand on one box,
# spread over tagwamp processes (each on its own port, at most 19,500
# sessions each: the descriptor limit here is 20,000 per process) joined
# by one nats-server, then a publication to one session in a thousand and
# one to every session, each timed to its last delivery. It drives the
# harness's million scenario (go run ./bench/cmd/tagwamp-bench -h), once
# per size, and writes each size's table and JSON under the output folder.
#
#   bench/million.sh [SIZE...]            default: 100000 250000 500000 1000000
#
# Environment:
#   OUT=dir           where the tables and JSON go (default bench/million-out)
#   DEADLINE=s        the whole run's limit in seconds (default 3600)
#   PHASE=s           one size's limit in seconds (default 1200)
#   MIN_FREE_MIB=n    stop a size when MemAvailable falls below n MiB
#                     (default 1536): the box is shared, never swap it out
#   BURSTS=n          publications of each kind per size (default 3)
#   CONCURRENCY=n     connection setups at once per generator process (default 64)
#
# Bounded in time (DEADLINE, PHASE, and the harness's own timeouts) and
# cleaning up after itself: a trap kills every process it started (the
# harness, and with it, by their parent-death signal, the servers,
# nats-server and the generator processes) and removes its temporary files.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$root/bench/million-out}
deadline=${DEADLINE:-3600}
phase=${PHASE:-1200}
min_free=${MIN_FREE_MIB:-1536}
bursts=${BURSTS:-3}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 250000 500000 1000000)

tmp=$(mktemp -d /tmp/million.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true
	done
	sleep 2
	for p in "${pids[@]}"; do
		kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || {
	echo "million.sh: nats-server is missing (/usr/sbin/nats-server)" >&2
	exit 1
}
ulimit -n "$(ulimit -Hn)"
mkdir -p "$out"
(cd "$root/bench" && go build -o "$tmp/tagwamp-bench" ./cmd/tagwamp-bench)

mem_available_mib() { awk '/^MemAvailable:/ {print int($2/1024)}' /proc/meminfo; }

start=$(date +%s)
status=0
for n in "${sizes[@]}"; do
	left=$((deadline - ($(date +%s) - start)))
	if [ "$left" -lt 60 ]; then
		echo "million.sh: the deadline (${deadline}s) leaves no time for $n" >&2
		status=1
		break
	fi
	limit=$((left < phase ? left : phase))
	nodes=$(((n + 19499) / 19500))
	echo "== $n sessions on $nodes tagwamp processes (limit ${limit}s; MemAvailable $(mem_available_mib) MiB)"
	cmd=("$tmp/tagwamp-bench" -root "$root" -servers tagwamp -nodes "$nodes" -conns "$n"
		-bursts "$bursts" -concurrency "${CONCURRENCY:-64}" -json "$out/million-$n.json" million)
	echo "command: tagwamp-bench ${cmd[*]:1}" | tee "$out/million-$n.txt"
	# setsid: the harness leads its own process group, so that the trap and
	# the watchdog reach all of it.
	TMPDIR=$tmp setsid timeout --signal=TERM --kill-after=30 "$limit" "${cmd[@]}" >>"$out/million-$n.txt" 2>"$tmp/stderr-$n" &
	pid=$!
	pids+=("$pid")
	lowest=$(mem_available_mib)
	killed=""
	while kill -0 "$pid" 2>/dev/null; do
		free_now=$(mem_available_mib)
		[ "$free_now" -lt "$lowest" ] && lowest=$free_now
		if [ "$free_now" -lt "$min_free" ]; then
			killed="MemAvailable $free_now MiB < $min_free MiB"
			echo "million.sh: $n: $killed: stopping this size" >&2
			kill -TERM -- "-$pid" 2>/dev/null || true
			break
		fi
		sleep 1
	done
	rc=0
	wait "$pid" || rc=$?
	cat "$tmp/stderr-$n" >&2
	cp "$tmp/stderr-$n" "$out/million-$n.log"
	echo "lowest MemAvailable during the run: $lowest MiB${killed:+; stopped: $killed}" | tee -a "$out/million-$n.txt"
	cat "$out/million-$n.txt"
	if [ -n "$killed" ] || [ "$rc" -ne 0 ]; then
		echo "million.sh: $n sessions did not complete (exit $rc${killed:+, $killed}); larger sizes skipped" >&2
		status=1
		break
	fi
done
exit $status
