#!/usr/bin/env bash
# Auth-key fast reconnect benchmark (issue 5, spec 3.10/4.3/5.5).
#
#   bench/authkey.sh                 # 100 reconnects per mode, 300 ms per signature
#   N=20 DELAY=300ms bench/authkey.sh
#   BIN=/dir bench/authkey.sh        # use existing binaries instead of building
#
# One dserver on 127.0.0.1 whose only authorized key lives in a counting
# ssh-agent (bench/agent) that sleeps DELAY before every signature, like a
# hardware token waiting for a touch. The client's --auth-key-path key is
# authorized nowhere: it gets in only through AUTHKEY registration.
#   with fast path:    N x `dcat` of a tiny file, registering the auth key
#                      (1st connection signs with the agent, the rest are
#                      authorized from the server's in-memory store)
#   without fast path: N x the same with --no-auth-key and another auth key
#                      (every connection needs one agent signature)
# Prints both wall times, the agent signatures of each mode and the ratio.
# As root, dserver runs as the user dtbench (created if missing).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${N:-100}
DELAY=${DELAY:-300ms}
need_tools ssh-keygen:openssh-client awk

if [ -z "${BIN:-}" ]; then
	need_tools go
	BIN=$BENCH/bin
	log "building ./cmd/... and bench/agent into $BIN"
	(cd "$ROOT" && go build -o "$BIN/" ./cmd/... && go build -o "$BIN/countagent" ./bench/agent) || die "go build failed"
fi
[ -x "$BIN/dcat" ] && [ -x "$BIN/dserver" ] || die "$BIN/dcat or dserver not found"
if [ ! -x "$BIN/countagent" ]; then
	(cd "$ROOT" && go build -o "$BIN/countagent" ./bench/agent) || die "go build ./bench/agent failed"
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/dtail-authkey.XXXXXX")
chmod 755 "$W"
SRV_PID= AGENT_PID=
cleanup() {
	[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

if [ "$(id -u)" = 0 ]; then
	SRV_USER=dtbench
	id "$SRV_USER" >/dev/null 2>&1 || useradd -M -U -s /usr/sbin/nologin "$SRV_USER" || die "useradd $SRV_USER failed"
	RUN_SRV=(setpriv "--reuid=$SRV_USER" "--regid=$SRV_USER" --clear-groups)
else
	SRV_USER=$(id -un)
	RUN_SRV=()
fi

mkdir -p "$W/srv/cache" "$W/home/.ssh" "$W/keys"
chmod 700 "$W/home/.ssh"
ssh-keygen -q -t rsa -b 2048 -m PEM -N "" -f "$W/srv/cache/ssh_host_key"
for k in agent fast slow; do ssh-keygen -q -t ed25519 -N "" -C "$k" -f "$W/keys/$k"; done
cp "$W/keys/agent.pub" "$W/srv/cache/$SRV_USER.authorized_keys"   # only the agent key is authorized
printf 'tiny line one\ntiny line two\n' >"$W/tiny.log"
chmod 644 "$W/tiny.log"
[ "$(id -u)" = 0 ] && chown -R "$SRV_USER:" "$W/srv"

"$BIN/countagent" -socket "$W/agent.sock" -key "$W/keys/agent" -delay "$DELAY" -count "$W/signs" &
AGENT_PID=$!
for _ in $(seq 100); do [ -S "$W/agent.sock" ] && break; sleep 0.05; done
[ -S "$W/agent.sock" ] || die "agent did not start"

PORT=$(awk 'BEGIN{srand(); print 20000 + int(rand()*20000)}')
(cd "$W/srv" && exec "${RUN_SRV[@]}" "$BIN/dserver" --cfg none --logger stdout --logLevel info \
	--bindAddress 127.0.0.1 --port "$PORT" >"$W/dserver.out" 2>&1) &
SRV_PID=$!
for _ in $(seq 200); do (: >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
(: >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || { cat "$W/dserver.out" >&2; die "dserver did not listen on $PORT"; }

now() { date +%s.%N; }
signs() { cat "$W/signs"; }

# loop KEY [flags...]: N reconnects; prints "<seconds> <signatures> <failures>".
loop() {
	local key=$1 fail=0 s0 t0 t1 out
	shift
	s0=$(signs)
	t0=$(now)
	for _ in $(seq "$N"); do
		out=$(HOME="$W/home" SSH_AUTH_SOCK="$W/agent.sock" "$BIN/dcat" --cfg none --plain --noColor \
			--trustAllHosts --servers "127.0.0.1:$PORT" --user "$SRV_USER" --auth-key-path "$key" \
			"$@" --files "$W/tiny.log" 2>/dev/null)
		[ "$out" = $'tiny line one\ntiny line two' ] || fail=$((fail + 1))
	done
	t1=$(now)
	awk -v a="$t0" -v b="$t1" -v s="$(($(signs) - s0))" -v f="$fail" 'BEGIN{printf "%.2f %d %d\n", b-a, s, f}'
}

log "$N reconnects with the auth-key fast path (agent delay $DELAY per signature) ..."
read -r T_FAST S_FAST F_FAST < <(loop "$W/keys/fast")
log "$N reconnects without it (--no-auth-key) ..."
read -r T_SLOW S_SLOW F_SLOW < <(loop "$W/keys/slow" --no-auth-key)
STORE=$(grep -c 'Authorized by in-memory auth key store' "$W/dserver.out")

printf 'AUTHKEY with fast path:    %6.2f s for %d reconnects, %d agent signatures, %d failed runs\n' "$T_FAST" "$N" "$S_FAST" "$F_FAST"
printf 'AUTHKEY without fast path: %6.2f s for %d reconnects, %d agent signatures, %d failed runs\n' "$T_SLOW" "$N" "$S_SLOW" "$F_SLOW"
printf 'AUTHKEY ratio without/with: %.1fx  (server logged %d logins from the in-memory store)\n' \
	"$(awk -v a="$T_SLOW" -v b="$T_FAST" 'BEGIN{print a/b}')" "$STORE"
[ "$F_FAST" = 0 ] && [ "$F_SLOW" = 0 ] && [ "$S_FAST" = 1 ] && [ "$S_SLOW" = "$N" ] ||
	{ log "unexpected result (want 1 and $N signatures, no failures)"; exit 1; }
