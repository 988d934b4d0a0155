#!/usr/bin/env bash
# One client against a fleet of N distinct hosts (issue 16).
#
#   sudo bench/fleet-scale.sh                 # N = 1000 and 10000
#   NS_LIST="200 2000 10000" bench/fleet-scale.sh
#   BASE=/tmp/old-bin bench/fleet-scale.sh    # also run these binaries, same run
#   BIN=/dir K=4 PROFILE=1                    # existing binaries; dservers; pprof
#                                             # (client and dserver 0 CPU profiles,
#                                             # kept with KEEP=1)
#   CLIENT_ARGS="--cpc 40"                    # extra dcat arguments
#
# Setup: a network namespace created here (only `lo`, up), K dservers bound
# to 0.0.0.0:2222..2222+K-1 inside it, all as one unprivileged account
# (SRV_USER, default dtremote). Every address of 127.0.0.0/8 reaches them
# there, so N host:port pairs 127.a.b.c:222x are N distinct hosts to the
# client (own known_hosts entry, own connection). The client runs inside the
# namespace too, as `dcat --plain --receipt json` of one 10-line file.
#
# Printed for each N (and each binary set): first contact (--trustAllHosts,
# empty known_hosts) and the next run (every host known, no flag): wall time,
# connections/s, client peak RSS (total and per host), lines received of
# lines expected, hosts failed, client CPU and the K dservers' CPU (they share
# the machine with the client). Ratios after/before when BASE is set.
# Everything is stopped by PID and the namespace deleted at the end.
# Exit status: 1 if a run lost lines or hosts, else 0.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NS_LIST=${NS_LIST:-"1000 10000"}
K=${K:-4}
F=ten.log
[ "$(id -u)" = 0 ] || die "needs root (ip netns, setpriv)"
need_tools ip:iproute2 setpriv:util-linux ssh-keygen:openssh-client time awk

if [ -z "${BIN:-}" ]; then
	need_tools go
	BIN=$BENCH/bin
	log "building ./cmd/... into $BIN"
	(cd "$ROOT" && go build -o "$BIN/" ./cmd/...) || die "go build failed"
fi
SETS=("after=$BIN")
[ -n "${BASE:-}" ] && SETS=("before=$BASE" "${SETS[@]}")
for s in "${SETS[@]}"; do
	for b in dcat dserver; do [ -x "${s#*=}/$b" ] || die "${s#*=}/$b not found"; done
done

OUT=$(mktemp -d "${TMPDIR:-/tmp}/dtail-fleet-scale.XXXXXX")
chmod 755 "$OUT"
DATA=$OUT/data
mkdir -p "$DATA"
for i in $(seq 10); do echo "line $i of the fleet-scale file"; done >"$DATA/$F"
chmod 755 "$DATA"
bench_server_user
NS=dtail-fs-$$
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do stop "$p"; done
	ip netns del "$NS" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS" || die "ip netns add $NS failed"
ip netns exec "$NS" ip link set lo up || die "lo up failed"
IN_NS=(ip netns exec "$NS")

mkdir -p "$OUT/keys" "$OUT/home/.ssh"
chmod 700 "$OUT/home/.ssh"
KEY=$OUT/keys/id_ed25519
ssh-keygen -q -t ed25519 -N "" -C bench -f "$KEY"
cat >"$OUT/dtail.json" <<EOF
{"Server": {"MaxConnections": 2000, "MaxConcurrentCats": 100}}
EOF
chmod 644 "$OUT/dtail.json"

# start_servers DIR: K dservers of the binary set in DIR; PIDs in SRV_PIDS.
SRV_PIDS=()
start_servers() {
	local bin=$1 k d port
	SRV_PIDS=()
	for k in $(seq 0 $((K - 1))); do
		port=$((2222 + k))
		d=$OUT/srv$k
		rm -rf "$d"
		mkdir -p "$d/cache"
		[ -s "$OUT/hostkey$k" ] || ssh-keygen -q -t ed25519 -N "" -f "$OUT/hostkey$k"
		cp "$OUT/hostkey$k" "$d/cache/ssh_host_key"
		cp "$KEY.pub" "$d/cache/$SRV_USER.authorized_keys"
		chmod 600 "$d/cache/ssh_host_key"
		chown -R "$SRV_USER:" "$d"
		local pp=()
		[ -n "${PROFILE:-}" ] && [ "$k" = 0 ] && pp=(--pprof 127.0.0.1:6060)
		(cd "$d" && exec "${IN_NS[@]}" "${AS_SRV[@]}" "$bin/dserver" --cfg "$OUT/dtail.json" --logger stdout \
			--logLevel error --bindAddress 0.0.0.0 --port "$port" "${pp[@]}" >"$d/dserver.log" 2>&1) &
		SRV_PIDS+=($!)
		PIDS+=($!)
	done
	for k in $(seq 0 $((K - 1))); do
		for _ in $(seq 200); do
			"${IN_NS[@]}" bash -c ": >/dev/tcp/127.0.0.1/$((2222 + k))" 2>/dev/null && break
			sleep 0.05
		done
	done
}
stop_servers() {
	local p
	for p in "${SRV_PIDS[@]}"; do stop "$p"; done
	SRV_PIDS=()
}

# hosts N: N distinct host:port pairs spread over 127.0.0.0/8.
hosts() {
	awk -v n="$1" -v k="$K" 'BEGIN{ for (i = 0; i < n; i++) {
		j = int(i / k)
		printf "127.%d.%d.%d:%d\n", int(j / 64516) + 1, int(j / 254) % 254 + 1, j % 254 + 1, 2222 + i % k } }'
}

# srv_ticks: CPU clock ticks (user + system) of the running dservers.
srv_ticks() {
	local p sum=0 f
	for p in "${SRV_PIDS[@]}"; do
		f=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		f=${f##*) }
		read -r -a f <<<"$f"
		sum=$((sum + f[11] + f[12]))
	done
	echo "$sum"
}
HZ=$(getconf CLK_TCK)

# run LABEL BIN SERVERFILE N [ARGS...]: one dcat inside the namespace.
declare -A WALL RSS LINES OK CPU SCPU
run() {
	local label=$1 bin=$2 file=$3 n=$4
	shift 4
	local t0 t1 out=$OUT/run.out err=$OUT/run.err s0 ppid=
	s0=$(srv_ticks)
	if [ -n "${PROFILE:-}" ] && [ -n "${PROF_SECONDS:-}" ]; then
		# dserver 0's CPU profile; a window longer than the run only adds
		# idle time, which a CPU profile does not sample.
		"${IN_NS[@]}" curl -s -o "$OUT/prof-$label-dserver0.prof" \
			"http://127.0.0.1:6060/debug/pprof/profile?seconds=$PROF_SECONDS" &
		ppid=$!
	fi
	t0=$(date +%s.%N)
	HOME=$OUT/home /usr/bin/time -o "$OUT/time" -f '%M %U %S' "${IN_NS[@]}" "$bin/dcat" --cfg none --servers "$file" \
		--user "$SRV_USER" --auth-key-path "$KEY" --plain --receipt json --files "$DATA/$F" "$@" >"$out" 2>"$err" </dev/null
	t1=$(date +%s.%N)
	SCPU[$label]=$(awk -v a="$s0" -v b="$(srv_ticks)" -v hz="$HZ" 'BEGIN{printf "%.1f", (b - a) / hz}')
	if [ -n "$ppid" ]; then
		wait "$ppid"
		"${IN_NS[@]}" curl -s -o "$OUT/prof-$label-dserver0.allocs" "http://127.0.0.1:6060/debug/pprof/allocs"
	fi
	WALL[$label]=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b - a}')
	read -r RSS[$label] u s < <(tail -n 1 "$OUT/time")
	CPU[$label]=$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.1f", u + s}')
	LINES[$label]=$(wc -l <"$out")
	OK[$label]=$(grep -o '"hosts_ok":[0-9]*' "$err" | tail -n 1 | cut -d: -f2)
	[ -n "${OK[$label]}" ] || OK[$label]=0
	if [ -n "${KEEP:-}" ]; then cp "$err" "$OUT/$label.err"; fi
}

FAILED=0
echo "# fleet-scale.sh K=$K N='$NS_LIST' $(date -u +%FT%TZ) nproc=$(nproc) load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-7s %6s  %-13s %9s %9s %10s %12s %14s %6s %9s %9s\n' set hosts run wall_s conn/s rss_MB rss_KB/host lines_rcvd/exp failed client_cpu_s srv_cpu_s
for n in $NS_LIST; do
	hosts "$n" >"$OUT/servers.$n"
	for s in "${SETS[@]}"; do
		name=${s%%=*} bin=${s#*=}
		start_servers "$bin"
		rm -f "$OUT/home/.ssh/known_hosts"
		read -r -a extra <<<"${CLIENT_ARGS:-}"
		[ -n "${PROFILE:-}" ] && extra+=(--profile --profiledir "$OUT/prof-$name-$n")
		for phase in first known; do
			l=$name.$n.$phase
			if [ $phase = first ]; then
				run "$l" "$bin" "$OUT/servers.$n" "$n" --trustAllHosts "${extra[@]}"
			else
				# The server profile covers the known-hosts run.
				PROF_SECONDS=$(awk -v w="${WALL[$name.$n.first]}" 'BEGIN{printf "%d", w + 3}') \
					run "$l" "$bin" "$OUT/servers.$n" "$n" "${extra[@]}"
			fi
			exp=$((10 * n))
			fail=$((n - OK[$l]))
			[ "${LINES[$l]}" = "$exp" ] && [ "$fail" = 0 ] || FAILED=1
			printf '%-7s %6d  %-13s %9s %9s %10s %12s %14s %6d %9s %9s\n' "$name" "$n" \
				"$([ $phase = first ] && echo first-contact || echo known-hosts)" "${WALL[$l]}" \
				"$(awk -v n="$n" -v w="${WALL[$l]}" 'BEGIN{printf "%.0f", n / w}')" \
				"$(awk -v r="${RSS[$l]}" 'BEGIN{printf "%.1f", r / 1024}')" \
				"$(awk -v r="${RSS[$l]}" -v n="$n" 'BEGIN{printf "%.1f", r / n}')" \
				"${LINES[$l]}/$exp" "$fail" "${CPU[$l]}" "${SCPU[$l]}"
		done
		stop_servers
	done
	for s in "${SETS[@]}"; do
		name=${s%%=*}
		f=$name.$n.first k=$name.$n.known
		echo "RATIO $name N=$n: first-contact / known-hosts wall = $(awk -v a="${WALL[$f]}" -v b="${WALL[$k]}" 'BEGIN{printf "%.2f", a / b}')"
	done
	if [ -n "${BASE:-}" ]; then
		for p in first known; do
			echo "RATIO N=$n $p: after / before wall = $(awk -v a="${WALL[after.$n.$p]}" -v b="${WALL[before.$n.$p]}" 'BEGIN{printf "%.3f", a / b}')," \
				"rss = $(awk -v a="${RSS[after.$n.$p]}" -v b="${RSS[before.$n.$p]}" 'BEGIN{printf "%.3f", a / b}')"
		done
	fi
done
[ -n "${KEEP:-}" ] && log "kept $OUT"
exit $FAILED
