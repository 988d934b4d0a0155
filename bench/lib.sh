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
