#!/usr/bin/env bash
# Time windows (issue 8 item 2): a one-hour window out of 30 days of
# rotated logs (app.log, app.log.1, app.log.2.gz … app.log.29.gz, mtimes
# as logrotate leaves them) must read under 5 % of the bytes a full scan
# reads. Bytes read come from the server's receipt (--receipt json); wall
# time is that of the whole client run. Runs through one loopback dserver
# and serverless (same session code).
#
#   bench/timewindow.sh               # 30 days x 20 lines/min (~1.1 GB uncompressed)
#   PER_MIN=2 bench/timewindow.sh     # quick (~110 MB)
#   BIN=/dir bench/timewindow.sh      # use existing binaries
#   KEEP=1                            # keep the work directory
#
# Output lines: RESULT <mode> <window>: bytes X of Y (P %), wall W s vs full F s  PASS|MISS
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PER_MIN=${PER_MIN:-20}
DAYS=30
need_tools go ssh-keygen:openssh-client python3

if [ -z "${BIN:-}" ]; then
	BIN=$BENCH/bin
	log "building ./cmd/... into $BIN"
	(cd "$ROOT" && go build -o "$BIN/" ./cmd/...) || die "go build failed"
fi
for b in dcat dgrep dserver; do [ -x "$BIN/$b" ] || die "$BIN/$b not found"; done
BIN=$(cd "$BIN" && pwd)

OUT=$(mktemp -d "${TMPDIR:-/tmp}/dtail-timewindow.XXXXXX")
chmod 755 "$OUT"
SRV_PID=
cleanup() {
	if [ -n "$SRV_PID" ]; then
		kill "$SRV_PID" 2>/dev/null
		wait "$SRV_PID" 2>/dev/null
	fi
	[ -n "${KEEP:-}" ] || rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" = 0 ]; then
	SRV_USER=${SRV_USER:-dtbench}
	id "$SRV_USER" >/dev/null 2>&1 || useradd -m -U -s /usr/sbin/nologin "$SRV_USER" || die "useradd $SRV_USER failed"
	AS_SRV=(setpriv "--reuid=$SRV_USER" "--regid=$(id -gn "$SRV_USER")" --init-groups)
else
	SRV_USER=$(id -un)
	AS_SRV=()
fi

# Data -----------------------------------------------------------------------
NOW=$(( $(date +%s) / 60 * 60 ))
mkdir -p "$OUT/logs"
log "generating $DAYS days x $PER_MIN lines/min into $OUT/logs"
(cd "$ROOT" && go run ./bench/twgen -dir "$OUT/logs" -days $DAYS -per-min "$PER_MIN" -now "$NOW") || die "twgen failed"
chmod -R a+rX "$OUT/logs"
log "data: $(du -sh --apparent-size "$OUT/logs" | cut -f1) on disk in $(ls "$OUT/logs" | wc -l) files"

# Server -----------------------------------------------------------------------
mkdir -p "$OUT/srv/cache" "$OUT/srv/log" "$OUT/home/.ssh" "$OUT/keys"
chmod 700 "$OUT/home/.ssh"
KEY=$OUT/keys/id_ed25519
ssh-keygen -q -t ed25519 -N "" -C bench -f "$KEY"
ssh-keygen -q -t ed25519 -N "" -f "$OUT/srv/cache/ssh_host_key"
cp "$KEY.pub" "$OUT/srv/cache/$SRV_USER.authorized_keys"
cat >"$OUT/srv/dtail.json" <<EOF
{ "Server": { "SSHBindAddress": "127.0.0.1", "HostKeyFile": "$OUT/srv/cache/ssh_host_key",
    "Permissions": { "Default": [ "readfiles:^/.*\$" ] } },
  "Common": { "CacheDir": "$OUT/srv/cache", "LogDir": "$OUT/srv/log", "Logger": "stdout", "LogLevel": "warn" } }
EOF
[ "$(id -u)" = 0 ] && chown -R "$SRV_USER:" "$OUT/srv"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$OUT/srv" && exec "${AS_SRV[@]}" "$BIN/dserver" --cfg "$OUT/srv/dtail.json" --logger stdout \
	--logLevel warn --bindAddress 127.0.0.1 --port "$PORT" >>"$OUT/server.out" 2>&1) &
SRV_PID=$!
for _ in $(seq 100); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT),0.2)" 2>/dev/null && break
	sleep 0.1
done

# Runs -------------------------------------------------------------------------
REMOTE=(--cfg none --noColor --plain --trustAllHosts --servers "127.0.0.1:$PORT" --user "$SRV_USER" --auth-key-path "$KEY")
LOCAL=(--cfg none --noColor --plain)
# run NAME ARGS... : prints "bytes seconds lines" of one client run.
run() {
	local t0 t1 bytes n
	t0=$(date +%s.%N)
	n=$("$@" --receipt json 2>"$OUT/err" | wc -l)
	t1=$(date +%s.%N)
	bytes=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    l=l.strip()
    if l.startswith("{"):
        print(json.loads(l)["bytes"]); break' "$OUT/err")
	echo "${bytes:-0} $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}') $n"
}
iso() { date -u -d "@$1" +%FT%TZ; }

echo "# timewindow.sh days=$DAYS per_min=$PER_MIN $(date -u +%FT%TZ) nproc=$(nproc)"
FAILED=0
for mode in dserver serverless; do
	if [ $mode = dserver ]; then C=("${REMOTE[@]}"); else C=("${LOCAL[@]}"); fi
	read -r FB FT FN < <(run "$BIN/dgrep" "${C[@]}" --regex status= --files "$OUT/logs/app.log*")
	echo "FULL   $mode dgrep app.log*: bytes $FB, lines $FN, wall ${FT} s"
	for w in "live file:$((NOW - 3 * 3600 - 1380))" "plain app.log.1:$((NOW - 36 * 3600 + 1020))" "gz day 15:$((NOW - 15 * 86400 - 5 * 3600 - 180))"; do
		name=${w%%:*}
		since=${w##*:}
		until=$((since + 3600))
		read -r B T N < <(run "$BIN/dgrep" "${C[@]}" --regex status= --files "$OUT/logs/app.log" --since "$(iso "$since")" --until "$(iso "$until")")
		want=$((60 * PER_MIN))
		pct=$(awk -v a="$B" -v b="$FB" 'BEGIN{printf "%.2f", a*100/b}')
		verdict=PASS
		awk -v p="$pct" 'BEGIN{exit !(p < 5)}' || verdict=MISS
		[ "$N" = "$want" ] || { verdict="FAIL (lines $N, want $want)"; FAILED=1; }
		echo "RESULT $mode $name: bytes $B of $FB ($pct %), lines $N, wall $T s vs full $FT s  $verdict"
	done
done
exit $FAILED
