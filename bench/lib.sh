# Shared helpers for the bench/ scripts. Source it; do not execute it.
# Sets ROOT (repo root), BENCH (this directory), DATA (data directory).

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
DATA=${DATA:-$BENCH/data}

log() { printf '>> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# need_tools CMD[:PACKAGE] ...  -- make sure each command exists; try to
# install the missing ones with apt-get (as root), otherwise explain and exit.
need_tools() {
	local missing=() pkgs=() spec cmd pkg
	for spec in "$@"; do
		cmd=${spec%%:*}
		pkg=${spec#*:}
		[ "$pkg" = "$spec" ] && pkg=$cmd
		if [ "$cmd" = time ]; then
			[ -x /usr/bin/time ] && continue
		else
			command -v "$cmd" >/dev/null 2>&1 && continue
		fi
		missing+=("$cmd")
		pkgs+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "missing tools: ${missing[*]} (packages: ${pkgs[*]})"
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		log "installing with apt-get ..."
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >&2 ||
			die "apt-get install ${pkgs[*]} failed"
	else
		die "please install: ${pkgs[*]} (e.g. sudo apt-get install -y ${pkgs[*]})"
	fi
}

# optional_tool CMD[:PACKAGE] -- like need_tools but never fatal; returns
# non-zero when the tool is still unavailable.
optional_tool() {
	( need_tools "$1" ) 2>/dev/null || true
	command -v "${1%%:*}" >/dev/null 2>&1
}

# bench_server_user picks the account the benchmark dserver runs as (an
# unprivileged SRV_USER, default dtremote, when run as root) and sets
# AS_SRV, the command prefix that runs as it; the data file $DATA/$F must
# be readable by it.
bench_server_user() {
	if [ "$(id -u)" = 0 ]; then
		SRV_USER=${SRV_USER:-dtremote}
		id "$SRV_USER" >/dev/null 2>&1 || useradd -m -U -s /bin/bash "$SRV_USER" || die "useradd $SRV_USER failed"
		AS_SRV=(setpriv "--reuid=$SRV_USER" "--regid=$(id -gn "$SRV_USER")" --init-groups)
	else
		SRV_USER=$(id -un)
		AS_SRV=()
	fi
	"${AS_SRV[@]}" test -r "$DATA/$F" || { [ "$(id -u)" = 0 ] && chmod a+r "$DATA/$F" && chmod a+x "$DATA"; } ||
		die "$SRV_USER cannot read $DATA/$F"
}

# stop PID: TERM, then KILL after 5 s, and reap it.
stop() {
	local p=$1 i
	[ -n "$p" ] || return 0
	kill "$p" 2>/dev/null || return 0
	for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
}

# start_bench_dserver starts one dserver for a benchmark: keys under
# $OUT/keys (KEY is the client key), the server in $OUT/srv as "${AS_SRV[@]}"
# (set by the caller; empty when not root), its output in $OUT/dserver.log.
# Sets KEY, DS_PORT and DS_PID; the caller stops DS_PID in its cleanup.
# DS_CFG, if set, is the server's config file (default: --cfg none).
start_bench_dserver() {
	mkdir -p "$OUT/srv/cache" "$OUT/home/.ssh" "$OUT/keys"
	chmod 700 "$OUT/home/.ssh"
	KEY=$OUT/keys/id_ed25519
	ssh-keygen -q -t ed25519 -N "" -C bench -f "$KEY"
	ssh-keygen -q -t ed25519 -N "" -f "$OUT/srv/cache/ssh_host_key"
	cp "$KEY.pub" "$OUT/srv/cache/$SRV_USER.authorized_keys"
	chmod 600 "$OUT/srv/cache/ssh_host_key"
	[ "$(id -u)" = 0 ] && chown -R "$SRV_USER:" "$OUT/srv"
	# A free-looking port can still be taken by the time dserver binds
	# it (other tests on the machine): try a few.
	local try
	for try in 1 2 3 4 5; do
		DS_PORT=
		for _ in $(seq 100); do
			p=$(awk -v s="$RANDOM$$" 'BEGIN{srand(s); print 20000 + int(rand()*30000)}')
			(: >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { DS_PORT=$p; break; }
		done
		[ -n "$DS_PORT" ] || die "no free port"
		(cd "$OUT/srv" && exec "${AS_SRV[@]}" "$BIN/dserver" --cfg "${DS_CFG:-none}" --logger stdout --logLevel warn \
			--bindAddress 127.0.0.1 --port "$DS_PORT" >"$OUT/dserver.log" 2>&1) &
		DS_PID=$!
		for _ in $(seq 200); do
			(: >"/dev/tcp/127.0.0.1/$DS_PORT") 2>/dev/null && return 0
			kill -0 "$DS_PID" 2>/dev/null || break
			sleep 0.05
		done
		if kill -0 "$DS_PID" 2>/dev/null; then
			return 0
		fi
		wait "$DS_PID" 2>/dev/null
		grep -q 'address already in use' "$OUT/dserver.log" || break
	done
	cat "$OUT/dserver.log" >&2
	die "dserver did not start"
}

# use_json_tool sets JSONTOOL to python3 or jq, for reading hyperfine's
# --export-json files.
use_json_tool() {
	if command -v python3 >/dev/null 2>&1; then JSONTOOL=python3
	elif command -v jq >/dev/null 2>&1; then JSONTOOL=jq
	else need_tools jq; JSONTOOL=jq; fi
}

# build_bins NAME... -- the binaries under test: BIN if set (e.g. a
# baseline build), else ./cmd/... built into $BENCH/bin; each NAME must be
# there.
build_bins() {
	if [ -z "${BIN:-}" ]; then
		need_tools go
		BIN=$BENCH/bin
		log "building ./cmd/... into $BIN"
		(cd "$ROOT" && go build -o "$BIN/" ./cmd/...) || die "go build failed"
	fi
	local b
	for b in "$@"; do [ -x "$BIN/$b" ] || die "$BIN/$b not found"; done
}

# ensure_data SIZE FILE... -- runs mkdata.sh (with SIZE) when any FILE is
# missing from DATA, then makes DATA absolute.
ensure_data() {
	local size=$1 f
	shift
	for f in "$@"; do
		if [ ! -s "$DATA/$f" ]; then
			log "$DATA/$f missing, running mkdata.sh (SIZE=$size)"
			SIZE=$size DATA=$DATA "$BENCH/mkdata.sh" >&2 || die "mkdata.sh failed"
			break
		fi
	done
	DATA=$(cd "$DATA" && pwd)
}

# hyperfine --export-json readers: JSON INDEX -> the median seconds, the
# max/min spread of the runs, the command line of result INDEX.
median() { hf_field "$1" "$2" '"%.6f" % r["median"]' '.median'; }
spread() { hf_field "$1" "$2" '"%.2f" % (r["max"]/r["min"])' '(.max/.min*100|round/100)'; }
cmdname() { hf_field "$1" "$2" 'r["command"]' '.command'; }
hf_field() {
	[ -n "${JSONTOOL:-}" ] || use_json_tool
	if [ "$JSONTOOL" = python3 ]; then
		python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]; print('"$3"')' "$1" "$2"
	else
		jq -r ".results[$2] | $4" "$1"
	fi
}

# div A B [DIGITS] -> A/B with DIGITS decimals (default 2), "nan" for B=0;
# leq A B succeeds when A <= B.
div() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN{ if (b > 0) printf "%.*f", d, a/b; else print "nan" }'; }
leq() { awk -v a="$1" -v b="$2" 'BEGIN{ exit !(a <= b) }'; }

# cost NAME OURS BEFORE -- the COST line of a BASE= run: the build under
# test against the baseline build in the same hyperfine run (issue 13: a
# new pipeline may cost at most 2 %). Uses the calling script's say.
cost() {
	local r v
	r=$(awk -v a="$2" -v b="$3" 'BEGIN{ if (b > 0) printf "%.3f", a/b; else print "nan" }')
	if awk -v r="$r" 'BEGIN{exit !(r <= 1.02)}'; then v=PASS; else v=MISS; fi
	say "COST $1: ours/before = $r (target ≤ 1.02) $v   [medians s: ours $2, before $3]"
}
