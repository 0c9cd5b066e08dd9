#!/bin/bash
# pin.sh SERVER_CPU CLIENT_CPU COMMAND...: runs COMMAND (a tagwamp-bench
# invocation) and pins, as they appear, the processes it starts: servers
# (tagwamp, the peer, the floor's echo server) to SERVER_CPU and load
# generators (the generator workers, the floor's client) to CLIENT_CPU,
# every thread of each (taskset -a). Same CPU: "0 0"; across CPUs: "0 1".
# Only COMMAND's descendants are touched. Exits with COMMAND's status.
#
#   bench/pin.sh 0 1 /tmp/tb -root . -duration 3s floor rpc
set -u
S=$1 C=$2
shift 2
"$@" &
root=$!
declare -A seen
while kill -0 $root 2>/dev/null; do
	# COMMAND's descendants, from one ps.
	declare -A kids=()
	while read -r pid ppid; do kids[$ppid]+="$pid "; done < <(ps -e -o pid=,ppid=)
	todo=(${kids[$root]:-})
	while ((${#todo[@]})); do
		p=${todo[0]}
		todo=("${todo[@]:1}" ${kids[$p]:-})
		[[ -n ${seen[$p]:-} ]] && continue
		env=$(tr '\0' '\n' </proc/$p/environ 2>/dev/null) || continue
		exe=$(readlink /proc/$p/exe 2>/dev/null)
		cpu=
		if grep -q '^TAGWAMP_BENCH_FLOOR=server' <<<"$env"; then
			cpu=$S
		elif grep -q '^TAGWAMP_BENCH_FLOOR=client\|^TAGWAMP_BENCH_WORKER=' <<<"$env"; then
			cpu=$C
		elif [[ $exe == */tagwamp || $exe == */peer ]]; then
			cpu=$S
		fi
		# A child seen between fork and exec has its parent's environment
		# and executable: look again later unless it is settled.
		[[ -z $cpu ]] && continue
		taskset -a -p -c $cpu $p >/dev/null 2>&1 && seen[$p]=1
	done
	unset kids
	sleep 0.05
done
wait $root
