#!/usr/bin/env bash
# Fan-out (issue 4 "Speed and scale", perf-anchors §6): ONE dcat client
# against N loopback server endpoints, each endpoint a real dserver process.
#
#   bench/fanout.sh                   # N = 200 and 1000
#   ENDPOINTS="1 200 1000" bench/fanout.sh
#   CPCS="10 100"                     # --cpc values (10 = the default, run without the flag)
#   RUNS=5 WARMUP=1                   # hyperfine runs per command (wall times)
#   RSS_RUNS=3                        # /usr/bin/time runs per command (RSS, lines, CPU)
#   BIN=/dir bench/fanout.sh          # existing binaries instead of building
#   PROFILE=0                         # skip the client CPU profile at the largest N
#   SRV_USER=name                     # (as root) OS user running the dservers
#                                     # (default dtbench, created if missing)
#
# Our dserver listens on one address:port per process, and a client
# de-duplicates its server list, so N endpoints = N dserver processes on
# 127.0.0.1:BASE..BASE+N-1 (the largest N is started once; smaller N use a
# prefix of the list). They share one config (MaxConnections raised to 50),
# one ed25519 host key and one authorized_keys; all are stopped by PID at the
# end (also on errors and Ctrl+C). Server memory is reported (sum of RSS and
# of PSS, which counts shared binary pages once).
#
# Client: dcat --cfg none --plain --trustAllHosts --servers <list file>
#         --user U --auth-key-path KEY --files tiny.log [--cpc C]
# Per N and --cpc it prints
#   FANOUT N=.. cpc=..: wall (hyperfine median), connections/s = N / wall,
#   client peak RSS (/usr/bin/time %M, median) and RSS / N, lines received
#   (must be 10 x N, every line of tiny.log exactly N times), client CPU and
#   the servers' summed CPU per session.
# Reference (perf-anchors §6, DTail HEAD, 200 endpoints): 76 connections/s,
# client RSS growing 0.13 MB per server. Targets: more connections/s, less
# client RSS per server. Exit status 1 if any run lost lines or failed.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ENDPOINTS=${ENDPOINTS:-200 1000}
CPCS=${CPCS:-10 100}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
RSS_RUNS=${RSS_RUNS:-3}
PROFILE=${PROFILE:-1}
REF_CPS=76
REF_MB=0.13

need_tools hyperfine ssh-keygen:openssh-client setpriv:util-linux ss:iproute2 time:time awk
use_json_tool

build_bins dcat dserver
ensure_data small tiny.log
TINY=$DATA/tiny.log
TINY_LINES=$(wc -l <"$TINY")

MAXN=0
for n in $ENDPOINTS; do [ "$n" -gt "$MAXN" ] && MAXN=$n; done
[ "$MAXN" -gt 0 ] || die "ENDPOINTS is empty"

if [ "$(id -u)" = 0 ]; then
	SRV_USER=${SRV_USER:-dtbench}
	id "$SRV_USER" >/dev/null 2>&1 || useradd -m -U -s /usr/sbin/nologin "$SRV_USER" || die "useradd $SRV_USER failed"
	AS_SRV=(setpriv "--reuid=$SRV_USER" "--regid=$(id -gn "$SRV_USER")" --init-groups)
else
	SRV_USER=$(id -un)
	AS_SRV=()
fi
"${AS_SRV[@]}" test -r "$TINY" || { [ "$(id -u)" = 0 ] && chmod a+r "$TINY"; } ||
	die "$SRV_USER cannot read $TINY"

# File descriptors: the client holds one socket per endpoint.
[ "$(ulimit -n)" -ge $((MAXN + 200)) ] || ulimit -n $((MAXN + 200)) 2>/dev/null ||
	die "ulimit -n $(ulimit -n) is too low for $MAXN endpoints"

# Memory: an idle dserver has ~2 MB PSS, ~8 MB after serving a session.
avail=$(awk '/^MemAvailable:/{print int($2/1024)}' /proc/meminfo)
[ "$avail" -gt $((MAXN * 12 + 1024)) ] || die "MemAvailable $avail MB < $((MAXN * 12 + 1024)) MB needed for $MAXN dservers"

OUT=$(mktemp -d "${TMPDIR:-/tmp}/dtail-fanout.XXXXXX")
chmod 755 "$OUT"
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
say() { echo "$*"; echo "$*" >>"$SUMMARY"; }
FAILED=0
PIDS=()
cleanup() {
	local p i alive
	[ ${#PIDS[@]} -gt 0 ] || return 0
	log "stopping ${#PIDS[@]} dservers"
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for i in $(seq 100); do
		alive=0
		for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && { alive=1; break; }; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	PIDS=()
	[ -n "${KEEP:-}" ] || rm -rf "$OUT/srv" "$OUT/home" "$OUT/keys"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Keys, config -----------------------------------------------------------------
mkdir -p "$OUT/srv/cache" "$OUT/home/.ssh" "$OUT/keys" "$OUT/srv/log"
chmod 700 "$OUT/home/.ssh"
KEY=$OUT/keys/id_ed25519
ssh-keygen -q -t ed25519 -N "" -C bench -f "$KEY"
ssh-keygen -q -t ed25519 -N "" -f "$OUT/srv/cache/ssh_host_key"
cp "$KEY.pub" "$OUT/srv/cache/$SRV_USER.authorized_keys"
cat >"$OUT/srv/dtail.json" <<EOF
{ "Server": { "SSHBindAddress": "127.0.0.1", "HostKeyFile": "$OUT/srv/cache/ssh_host_key",
    "MaxConnections": 50, "MaxConcurrentCats": 10, "MaxConcurrentTails": 50,
    "Permissions": { "Default": [ "readfiles:^/.*\$" ] } },
  "Common": { "CacheDir": "$OUT/srv/cache", "LogDir": "$OUT/srv/log", "Logger": "stdout", "LogLevel": "warn" } }
EOF
[ "$(id -u)" = 0 ] && chown -R "$SRV_USER:" "$OUT/srv"

# A free range of MAXN consecutive ports on 127.0.0.1.
listening() { ss -Hltn 'sport >= :'"$1"' and sport <= :'"$2" 2>/dev/null | wc -l; }
BASE=
for _ in $(seq 50); do
	b=$(awk -v s="$RANDOM$$" -v n="$MAXN" 'BEGIN{srand(s); print 20000 + int(rand()*(40000-n))}')
	[ "$(listening "$b" $((b + MAXN - 1)))" = 0 ] && { BASE=$b; break; }
done
[ -n "$BASE" ] || die "no free range of $MAXN ports"

# Start the servers ------------------------------------------------------------
log "starting $MAXN dservers on 127.0.0.1:$BASE-$((BASE + MAXN - 1)) as $SRV_USER (work dir $OUT)"
T0=$(date +%s.%N)
for ((i = 0; i < MAXN; i++)); do
	(cd "$OUT/srv" && exec "${AS_SRV[@]}" "$BIN/dserver" --cfg "$OUT/srv/dtail.json" --logger stdout \
		--logLevel warn --bindAddress 127.0.0.1 --port $((BASE + i)) >>"$OUT/servers.out" 2>&1) &
	PIDS+=($!)
done
for _ in $(seq 1200); do
	up=$(listening "$BASE" $((BASE + MAXN - 1)))
	[ "$up" -ge "$MAXN" ] && break
	sleep 0.1
done
[ "$up" -ge "$MAXN" ] || { tail -n 20 "$OUT/servers.out" >&2; die "only $up of $MAXN dservers listen"; }
T1=$(date +%s.%N)
say "# fanout.sh endpoints=[$ENDPOINTS] cpc=[$CPCS] runs=$RUNS warmup=$WARMUP rss_runs=$RSS_RUNS $(date -u +%FT%TZ) nproc=$(nproc) $("$BIN/dcat" --version 2>&1 | head -1 | sed "s/\x1b\[[0-9;]*m//g; s/  */ /g")"
say "SERVERS $MAXN dserver processes listening after $(awk -v a="$T0" -v b="$T1" 'BEGIN{printf "%.1f", b-a}') s"

HZ=$(getconf CLK_TCK)
srv_cpu() { # summed utime+stime ticks of all servers
	local p
	for p in "${PIDS[@]}"; do cat "/proc/$p/stat" 2>/dev/null; done |
		awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END{ print t + 0 }'
}
srv_mem() { # "RSS_MB PSS_MB" summed over all servers
	local p
	for p in "${PIDS[@]}"; do cat "/proc/$p/smaps_rollup" 2>/dev/null; done |
		awk '/^Rss:/{r+=$2} /^Pss:/{s+=$2} END{printf "%.0f %.0f", r/1024, s/1024}'
}
read -r RSS0 PSS0 < <(srv_mem)
say "SERVERS idle memory: RSS sum $RSS0 MB ($(awk -v r="$RSS0" -v n="$MAXN" 'BEGIN{printf "%.1f", r/n}') MB each), PSS sum $PSS0 MB ($(awk -v r="$PSS0" -v n="$MAXN" 'BEGIN{printf "%.1f", r/n}') MB each)"

export HOME=$OUT/home
for n in $ENDPOINTS; do
	seq -f "127.0.0.1:%g" "$BASE" $((BASE + n - 1)) >"$OUT/servers.$n"
done
echo "127.0.0.1:$BASE" >"$OUT/servers.base"
CL=("$BIN/dcat" --cfg none --plain --trustAllHosts --user "$SRV_USER" --auth-key-path "$KEY" --files "$TINY")
cpcflag() { [ "$1" = 10 ] || echo "--cpc $1"; }

median_of() { sort -n | awk '{a[NR]=$1} END{ if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2 }'; }
j
# Client RSS baseline with one endpoint (for the marginal RSS per server).
: >"$OUT/rss.base"
for ((r = 0; r < RSS_RUNS; r++)); do
	/usr/bin/time -f "%M" -o "$OUT/time" "${CL[@]}" --servers "$OUT/servers.base" >/dev/null 2>&1
	tail -n 1 "$OUT/time" >>"$OUT/rss.base"
done
KB1=$(median_of <"$OUT/rss.base")
say "CLIENT peak RSS with 1 endpoint: $(awk -v k="$KB1" 'BEGIN{printf "%.1f", k/1024}') MB (baseline for the marginal figure)"

for n in $ENDPOINTS; do
	echo
	echo "=== $n endpoints"
	# Correctness, RSS and CPU: RSS_RUNS runs per cpc under /usr/bin/time.
	for c in $CPCS; do
		: >"$OUT/rss.$n.$c"
		for ((r = 0; r < RSS_RUNS; r++)); do
			s0=$(srv_cpu)
			/usr/bin/time -f "%e %M %U %S" -o "$OUT/time" timeout 300 \
				"${CL[@]}" --servers "$OUT/servers.$n" $(cpcflag "$c") >"$OUT/lines" 2>"$OUT/err"
			rc=$?
			s1=$(srv_cpu)
			read -r wall kb us ss < <(tail -n 1 "$OUT/time")
			got=$(wc -l <"$OUT/lines")
			# every line of tiny.log exactly n times
			bad=$(sort "$OUT/lines" | uniq -c | awk -v n="$n" '$1 != n' | wc -l)
			distinct=$(sort -u "$OUT/lines" | wc -l)
			if [ "$rc" != 0 ] || [ "$got" != $((TINY_LINES * n)) ] || [ "$bad" != 0 ] || [ "$distinct" != "$TINY_LINES" ]; then
				say "CHECK N=$n cpc=$c run $r: FAIL (exit $rc, $got lines, want $((TINY_LINES * n)); $(head -c 300 "$OUT/err" | tr '\n' ' '))"
				FAILED=1
			fi
			echo "$wall $kb $us $ss $got $((s1 - s0))" >>"$OUT/rss.$n.$c"
		done
	done
	# Wall time: one hyperfine invocation with every cpc value.
	hf=()
	for c in $CPCS; do
		hf+=(-n "dcat N=$n cpc=$c" "${CL[*]} --servers $OUT/servers.$n $(cpcflag "$c")")
	done
	hyperfine -N --runs "$RUNS" --warmup "$WARMUP" --output=null --export-json "$OUT/hf.$n.json" "${hf[@]}" ||
		{ say "FANOUT N=$n: hyperfine failed"; FAILED=1; continue; }
	i=0
	for c in $CPCS; do
		read -r wall spread < <(jmedian "$OUT/hf.$n.json" $i)
		[ $i = 0 ] && first=$wall
		i=$((i + 1))
		kb=$(awk '{print $2}' "$OUT/rss.$n.$c" | median_of)
		cpu=$(awk '{print $3 + $4}' "$OUT/rss.$n.$c" | median_of)
		lines=$(awk '{print $5}' "$OUT/rss.$n.$c" | sort -u | paste -sd/)
		scpu=$(awk '{print $6}' "$OUT/rss.$n.$c" | median_of)
		cps=$(awk -v n="$n" -v w="$wall" 'BEGIN{printf "%.0f", n/w}')
		mb=$(awk -v k="$kb" 'BEGIN{printf "%.1f", k/1024}')
		per=$(awk -v k="$kb" -v n="$n" 'BEGIN{printf "%.3f", k/1024/n}')
		marg=$(awk -v k="$kb" -v b="$KB1" -v n="$n" 'BEGIN{ if (n > 1) printf "%.3f", (k-b)/1024/(n-1); else print "-" }')
		v1=$(awk -v a="$cps" -v b=$REF_CPS 'BEGIN{print (a > b) ? "PASS" : "MISS"}')
		v2=$(awk -v a="$per" -v b=$REF_MB 'BEGIN{print (a < b) ? "PASS" : "MISS"}')
		noisy=""
		awk -v s="$spread" 'BEGIN{exit !(s > 1.3)}' && noisy="  NOISY (max/min $spread)"
		say "FANOUT N=$n cpc=$c: wall $(printf '%.3f' "$wall") s (median of $RUNS), $cps connections/s (reference $REF_CPS) $v1; client peak RSS $mb MB = $per MB/server (reference $REF_MB) $v2, marginal $marg MB/extra server; lines $lines (want $((TINY_LINES * n))); client CPU $cpu s; servers CPU $(awk -v t="$scpu" -v n="$n" -v hz="$HZ" 'BEGIN{printf "%.1f", t/hz/n*1000}') ms/session$noisy"
		[ "$c" != "${CPCS%% *}" ] && say "      N=$n: cpc=$c / cpc=${CPCS%% *} wall = $(awk -v a="$wall" -v b="$first" 'BEGIN{printf "%.2f", a/b}') (same hyperfine invocation)"
	done
done

read -r RSS1 PSS1 < <(srv_mem)
say "SERVERS memory after the runs: RSS sum $RSS1 MB ($(awk -v r="$RSS1" -v n="$MAXN" 'BEGIN{printf "%.1f", r/n}') MB each), PSS sum $PSS1 MB"
nwarn=$(grep -vc 'Have a lot of fun' "$OUT/servers.out")
say "SERVERS log lines at warn level or above: $nwarn$( [ "$nwarn" -gt 0 ] && echo " (first: $(grep -v 'Have a lot of fun' "$OUT/servers.out" | head -n 3 | tr '\n' ' '))")"

# Client CPU profile at the largest N, default cpc.
if [ "$PROFILE" = 1 ] && command -v go >/dev/null 2>&1; then
	"${CL[@]}" --servers "$OUT/servers.$MAXN" -cpuprofile -profiledir "$OUT/prof" >/dev/null 2>&1
	prof=$(ls "$OUT"/prof/*.prof 2>/dev/null | head -n 1)
	if [ -n "$prof" ]; then
		echo
		echo "=== client CPU profile, N=$MAXN, default cpc ($prof)"
		(cd "$ROOT" && go tool pprof -top -nodecount=20 "$BIN/dcat" "$prof" 2>/dev/null | sed -n '4,30p')
	fi
fi

echo
echo "==================== summary (also in $SUMMARY; hyperfine JSON in $OUT) ===================="
cat "$SUMMARY"
exit $FAILED
