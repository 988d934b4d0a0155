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
		(: >"/dev/tcp/127.0.0.1/$DS_PORT") 2>/dev/null && break
		kill -0 "$DS_PID" 2>/dev/null || { cat "$OUT/dserver.log" >&2; die "dserver did not start"; }
		sleep 0.05
	done
}
