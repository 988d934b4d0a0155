#!/usr/bin/env bash
# Server mode against OpenSSH (issue 4 "Speed and scale", perf-anchors §5):
# our dserver and an unprivileged OpenSSH sshd side by side on 127.0.0.1,
# each comparison ONE hyperfine invocation.
#
#   bench/remote.sh                  # dgrep over big.log (1 GB)
#   SIZE=small bench/remote.sh       # dgrep over med.log (100 MB) instead
#   BIN=/dir bench/remote.sh         # use existing binaries instead of building
#   RUNS=5 WARMUP=1 TINY_RUNS=20     # hyperfine settings
#   BASE=/dir                        # also run a baseline build: its dserver beside
#                                    # ours, its client's same command in the SAME
#                                    # hyperfine run; a COST line gives ours/before
#                                    # (target ≤ 1.02)
#   SRV_USER=name                    # (as root) OS user running both servers
#                                    # and used as SSH user (default dtremote,
#                                    # created with a login shell if missing)
#
# Comparisons (ours first, baseline second, context after):
#   dcat --plain med.log through dserver  vs ssh cat med.log    target ≤ 1.0  (/dev/null)
#   dcat med.log (REMOTE headers, DTail's default output) through dserver
#                                  vs ssh cat med.log           target ≤ 1.3  (/dev/null)
#   dcat --plain tiny.log through dserver vs ssh cat tiny.log   target ≤ 1.0  (/dev/null)
#   dgrep --plain --regex status=503 big.log through dserver
#                                  vs serverless dgrep           target ≤ 1.2  (pipe)
# Prints CHECK lines (md5 of dcat output = md5 of the file, dgrep output =
# grep output and line count = grep -c), RATIO lines as serverless.sh, and
# SRVCPU info lines: CPU seconds per run of the dserver process, which
# hyperfine does not see (it measures the client only).
# Both servers use ed25519 host keys, the client an ed25519 user key.
# Exit status 1 if a correctness check failed.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZE=${SIZE:-full}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
TINY_RUNS=${TINY_RUNS:-20}
case $SIZE in
full) G=big.log ;;
small) G=med.log ;;
*) die "SIZE must be 'full' or 'small', got '$SIZE'" ;;
esac
F=med.log T=tiny.log

need_tools hyperfine ssh:openssh-client ssh-keygen:openssh-client setpriv:util-linux md5sum:coreutils awk
[ -x /usr/sbin/sshd ] || need_tools sshd:openssh-server
SSHD=/usr/sbin/sshd
[ -x $SSHD ] || SSHD=$(command -v sshd) || die "sshd not found (apt-get install openssh-server)"
use_json_tool

build_bins dcat dgrep dserver

ensure_data "$SIZE" $F $T $G

# Users: servers never run as root (ours refuses; sshd as non-root can only
# log in its own user, so the SSH user is the server user).
if [ "$(id -u)" = 0 ]; then
	SRV_USER=${SRV_USER:-dtremote}
	if ! id "$SRV_USER" >/dev/null 2>&1; then
		log "creating user $SRV_USER"
		useradd -m -U -s /bin/bash "$SRV_USER" || die "useradd $SRV_USER failed"
	fi
	case $(getent passwd "$SRV_USER" | cut -d: -f7) in
	*nologin | */false) die "user $SRV_USER has no login shell: ssh cat cannot run (pick another SRV_USER)" ;;
	esac
	AS_SRV=(setpriv "--reuid=$SRV_USER" "--regid=$(id -gn "$SRV_USER")" --init-groups)
else
	SRV_USER=$(id -un)
	AS_SRV=()
fi
for f in $F $T $G; do
	"${AS_SRV[@]}" test -r "$DATA/$f" && continue
	[ "$(id -u)" = 0 ] && chmod a+r "$DATA/$f" && chmod a+x "$DATA" && continue
	die "$SRV_USER cannot read $DATA/$f"
done

OUT=$(mktemp -d "${TMPDIR:-/tmp}/dtail-remote.XXXXXX")
chmod 755 "$OUT"
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
say() { echo "$*"; echo "$*" >>"$SUMMARY"; }
FAILED=0
DS_PID= SSHD_PID= BDS_PID=
cleanup() {
	stop "$DS_PID"
	stop "$BDS_PID"
	stop "$SSHD_PID"
	[ -n "${KEEP:-}" ] || rm -rf "$OUT/srv" "$OUT/srvb" "$OUT/sshd" "$OUT/home" "$OUT/keys"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Keys and server directories ----------------------------------------------
mkdir -p "$OUT/srv/cache" "$OUT/sshd" "$OUT/home/.ssh" "$OUT/keys"
chmod 700 "$OUT/home/.ssh"
KEY=$OUT/keys/id_ed25519
ssh-keygen -q -t ed25519 -N "" -C bench -f "$KEY"
ssh-keygen -q -t ed25519 -N "" -f "$OUT/srv/cache/ssh_host_key"
ssh-keygen -q -t ed25519 -N "" -f "$OUT/sshd/ssh_host_ed25519_key"
cp "$KEY.pub" "$OUT/srv/cache/$SRV_USER.authorized_keys"
cp "$KEY.pub" "$OUT/sshd/authorized_keys"

free_port() {
	local p
	for _ in $(seq 100); do
		p=$(awk -v s="$RANDOM$$" 'BEGIN{srand(s); print 20000 + int(rand()*30000)}')
		(: >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
	die "no free port"
}
DS_PORT=$(free_port)
SSH_PORT=$(free_port)
[ "$SSH_PORT" = "$DS_PORT" ] && SSH_PORT=$((DS_PORT + 1))

cat >"$OUT/sshd/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $SSH_PORT
HostKey $OUT/sshd/ssh_host_ed25519_key
PidFile $OUT/sshd/sshd.pid
AuthorizedKeysFile $OUT/sshd/authorized_keys
UsePAM no
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
X11Forwarding no
PrintMotd no
PrintLastLog no
UseDNS no
MaxStartups 100:30:200
LogLevel ERROR
EOF
chmod 600 "$OUT/sshd/ssh_host_ed25519_key" "$OUT/srv/cache/ssh_host_key"
[ "$(id -u)" = 0 ] && chown -R "$SRV_USER:" "$OUT/srv" "$OUT/sshd"

wait_port() { # wait_port PORT PID LOGFILE
	for _ in $(seq 200); do
		(: >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.05
	done
	cat "$3" >&2
	die "server (pid $2) did not listen on 127.0.0.1:$1"
}

(cd "$OUT/srv" && exec "${AS_SRV[@]}" "$BIN/dserver" --cfg none --logger stdout --logLevel warn \
	--bindAddress 127.0.0.1 --port "$DS_PORT" >"$OUT/dserver.out" 2>&1) &
DS_PID=$!
(cd "$OUT/sshd" && exec "${AS_SRV[@]}" "$SSHD" -D -e -f "$OUT/sshd/sshd_config" -p "$SSH_PORT" \
	>"$OUT/sshd.out" 2>&1) &
SSHD_PID=$!
wait_port "$DS_PORT" "$DS_PID" "$OUT/dserver.out"
if [ -n "${BASE:-}" ]; then
	for b in dcat dgrep dserver; do [ -x "$BASE/$b" ] || die "BASE: $BASE/$b not found"; done
	# The baseline dserver: same keys, its own directory and port.
	cp -a "$OUT/srv" "$OUT/srvb"
	BDS_PORT=$(free_port)
	(cd "$OUT/srvb" && exec "${AS_SRV[@]}" "$BASE/dserver" --cfg none --logger stdout --logLevel warn \
		--bindAddress 127.0.0.1 --port "$BDS_PORT" >"$OUT/dserver-base.out" 2>&1) &
	BDS_PID=$!
	wait_port "$BDS_PORT" "$BDS_PID" "$OUT/dserver-base.out"
fi
wait_port "$SSH_PORT" "$SSHD_PID" "$OUT/sshd.out"

# Client command lines -------------------------------------------------------
S="--cfg none --plain --servers 127.0.0.1:$DS_PORT --user $SRV_USER --auth-key-path $KEY --trustAllHosts"
SSH="ssh -p $SSH_PORT -i $KEY -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR $SRV_USER@127.0.0.1"
export HOME=$OUT/home # throwaway: known_hosts and ~/log of the clients land here
DCAT_SRV() { echo "$BIN/dcat $S --files $DATA/$1"; }

log "binaries: $BIN  data: $DATA  dserver: 127.0.0.1:$DS_PORT (pid $DS_PID)  sshd: 127.0.0.1:$SSH_PORT (pid $SSHD_PID)  as $SRV_USER  out: $OUT"
say "# remote.sh SIZE=$SIZE grep file=$G runs=$RUNS warmup=$WARMUP tiny_runs=$TINY_RUNS $(date -u +%FT%TZ) nproc=$(nproc) $("$BIN/dcat" --version 2>&1 | head -1 | sed "s/\x1b\[[0-9;]*m//g; s/  */ /g") / $(ssh -V 2>&1)"

# 1. Correctness -------------------------------------------------------------
TO=600
check_md5() { # check_md5 LABEL FILE cmd...
	local label=$1 file=$2 want got rc
	shift 2
	want=$(md5sum <"$file" | cut -d' ' -f1)
	got=$(timeout $TO "$@" 2>"$OUT/check.err" | md5sum | cut -d' ' -f1)
	rc=${PIPESTATUS[0]}
	if [ "$got" = "$want" ] && [ "$rc" = 0 ]; then
		say "CHECK $label: md5 = md5($(basename "$file")) OK"
	else
		say "CHECK $label: FAIL (expected md5 $want exit 0, got md5 $got exit $rc; stderr: $(head -c 300 "$OUT/check.err"))"
		FAILED=1
	fi
}
check_md5 "dcat --plain $F via dserver" "$DATA/$F" $(DCAT_SRV $F)
check_md5 "dcat --plain $T via dserver" "$DATA/$T" $(DCAT_SRV $T)
check_md5 "ssh cat $F (yardstick)" "$DATA/$F" $SSH cat "$DATA/$F"
check_md5 "ssh cat $T (yardstick)" "$DATA/$T" $SSH cat "$DATA/$T"
P=status=503
grep "$P" "$DATA/$G" >"$OUT/grep.want"
wantn=$(grep -c "$P" "$DATA/$G")
for mode in dserver serverless; do
	if [ $mode = dserver ]; then cmd=("$BIN/dgrep" $S --regex "$P" --files "$DATA/$G")
	else cmd=("$BIN/dgrep" --cfg none --plain --regex "$P" "$DATA/$G"); fi
	timeout $TO "${cmd[@]}" >"$OUT/grep.got" 2>"$OUT/check.err"
	rc=$?
	gotn=$(wc -l <"$OUT/grep.got")
	if [ "$gotn" = "$wantn" ] && cmp -s "$OUT/grep.want" "$OUT/grep.got" && [ $rc = 0 ]; then
		say "CHECK dgrep --plain --regex $P $G via $mode: $gotn lines = grep -c, output = grep output OK"
	else
		say "CHECK dgrep --plain --regex $P $G via $mode: FAIL (grep -c $wantn, got $gotn lines, exit $rc, same bytes: $(cmp -s "$OUT/grep.want" "$OUT/grep.got" && echo yes || echo no))"
		FAILED=1
	fi
done
rm -f "$OUT/grep.want" "$OUT/grep.got"

# 2. Timing --------------------------------------------------------------------
HZ=$(getconf CLK_TCK)
# cpu PID -> CPU ticks of PID plus its reaped children (utime stime cutime cstime)
cpu() { awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# compare NAME TARGET SINK RUNS -- hyperfine args (all commands without shell: -N)
compare() {
	local name=$1 target=$2 sink=$3 runs=$4; shift 5
	local json=$OUT/$(echo "$name" | tr -c 'A-Za-z0-9_.-' '_').json
	echo
	echo "=== $name"
	local d0 s0 d1 s1
	d0=$(cpu "$DS_PID") s0=$(cpu "$SSHD_PID")
	local before=()
	if [ -n "${BASE:-}" ]; then
		# The baseline client against the baseline dserver, last.
		local b=${3//"$BIN"/"$BASE"}
		before=(-n before "${b//":$DS_PORT "/":$BDS_PORT "}")
	fi
	if ! hyperfine -N --runs "$runs" --warmup "$WARMUP" --output="$sink" --export-json "$json" "$@" "${before[@]}"; then
		say "RATIO $name: hyperfine failed (see above) FAIL"
		return
	fi
	d1=$(cpu "$DS_PID") s1=$(cpu "$SSHD_PID")
	local ours base r verdict noisy="" sp
	ours=$(median "$json" 0)
	base=$(median "$json" 1)
	r=$(div "$ours" "$base")
	if leq "$r" "$target"; then verdict="(target ≤ $target) PASS"; else verdict="(target ≤ $target) MISS"; fi
	sp=$(spread "$json" 0)/$(spread "$json" 1)
	awk -v a="${sp%/*}" -v b="${sp#*/}" 'BEGIN{exit !(a > 1.3 || b > 1.3)}' &&
		noisy="  NOISY (max/min ours ${sp%/*}, baseline ${sp#*/})"
	say "RATIO $name: ours/baseline = $r $verdict   [medians s: ours $ours, baseline $base]$noisy"
	local cnt i
	cnt=$(grep -c '"command"' "$json")
	for ((i = 2; i < cnt; i++)); do
		say "      $name: ours/$(cmdname "$json" $i) = $(div "$ours" "$(median "$json" $i)") (info)   [median s: $(median "$json" $i)]"
	done
	if [ -n "${BASE:-}" ]; then
		cost "$name" "$ours" "$(median "$json" $((cnt - 1)))"
	fi
	say "SRVCPU $name: dserver $(awk -v t=$((d1 - d0)) -v n=$((runs + WARMUP)) -v hz="$HZ" 'BEGIN{printf "%.3f", t/hz/n}') s/run (info; all runs of the invocation incl. warm-up, ${HZ} Hz ticks; sshd not measured: its per-connection processes are not accounted to the listener's cutime)"
}

compare "dcat --plain $F via dserver vs ssh cat" 1.0 null "$RUNS" -- \
	-n "dcat server" "$(DCAT_SRV $F)" -n "ssh cat" "$SSH cat $DATA/$F" \
	-n "dcat serverless" "$BIN/dcat --cfg none --plain $DATA/$F"
# DTail's default output: every line with its REMOTE header (the client's
# remote adapter and REMOTE printer per line, not the --plain bare lines).
compare "dcat $F (REMOTE headers) via dserver vs ssh cat" 1.3 null "$RUNS" -- \
	-n "dcat server" "$BIN/dcat ${S/--plain/--noColor} --files $DATA/$F" -n "ssh cat" "$SSH cat $DATA/$F"
compare "dcat --plain $T (10 lines) via dserver vs ssh cat" 1.0 null "$TINY_RUNS" -- \
	-n "dcat server" "$(DCAT_SRV $T)" -n "ssh cat" "$SSH cat $DATA/$T"
compare "dgrep --plain --regex $P $G via dserver vs serverless" 1.2 pipe "$RUNS" -- \
	-n "dgrep server" "$BIN/dgrep $S --regex $P --files $DATA/$G" \
	-n "dgrep serverless" "$BIN/dgrep --cfg none --plain --regex $P $DATA/$G" \
	-n "ssh grep" "$SSH grep $P $DATA/$G"

# The readiness probe (a bare TCP connect) leaves one "SSH handshake failed|EOF" warning.
nwarn=$(grep -v 'Have a lot of fun' "$OUT/dserver.out" | grep -vc 'SSH handshake failed|EOF')
say "INFO dserver log lines at warn level or above, besides the readiness probe's: $nwarn$( [ "$nwarn" -gt 0 ] && echo " (first: $(grep -v 'Have a lot of fun' "$OUT/dserver.out" | grep -v 'SSH handshake failed|EOF' | head -n 3 | tr '\n' ' '))")"

echo
echo "==================== summary (also in $SUMMARY; hyperfine JSON in $OUT) ===================="
cat "$SUMMARY"
exit $FAILED
