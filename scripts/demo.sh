#!/usr/bin/env bash
# A real DTail demo on this machine: builds the binaries, generates a host
# key and a user key with ssh-keygen, starts dserver on 127.0.0.1 (as an
# unprivileged account when run as root: dserver refuses UID 0), then
# checks its health and cats, greps, follows and aggregates a generated
# log through it. Everything lives in a temp dir removed at the end.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
port="${DEMO_PORT:-22222}"
W="$(mktemp -d /tmp/dtail-demo.XXXXXX)"
chmod 755 "$W"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; }

step "building the binaries"
(cd "$repo" && go build -o "$W/bin/" ./cmd/... && go build -o "$W/bin/gen" ./bench/gen)
B="$W/bin"

step "generating keys with ssh-keygen and a 20,000-line log"
mkdir -p "$W/srv/cache" "$W/home/.ssh"
chmod 700 "$W/home/.ssh"
ssh-keygen -q -t ed25519 -N "" -f "$W/srv/cache/ssh_host_key"
ssh-keygen -q -t ed25519 -N "" -f "$W/home/.ssh/id_ed25519"
user="$(id -un)"
cp "$W/home/.ssh/id_ed25519.pub" "$W/srv/cache/$user.authorized_keys"
mkdir -p "$W/logs"
"$B/gen" -n 20000 > "$W/logs/app.log"
chmod 755 "$W/logs" "$W/srv" "$W/srv/cache"
chmod 644 "$W/logs/app.log" "$W/srv/cache/$user.authorized_keys"

run_server=("$B/dserver" --cfg none --logger stdout --logLevel info --bindAddress 127.0.0.1 --port "$port")
if [ "$(id -u)" = 0 ]; then
  # dserver never runs as root; use the nobody account for the demo.
  chown nobody "$W/srv/cache/ssh_host_key"
  run_server=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "${run_server[@]}")
fi
step "starting dserver on 127.0.0.1:$port"
(cd "$W/srv" && exec "${run_server[@]}" > "$W/dserver.log" 2>&1) &
pids+=($!)
for _ in $(seq 100); do (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
head -n 3 "$W/dserver.log"

export HOME="$W/home"
C=(--cfg none --servers "127.0.0.1:$port" --user "$user" --auth-key-path "$W/home/.ssh/id_ed25519" --trustAllHosts)

step "health check"
show dtailhealth --server 127.0.0.1:$port
"$B/dtailhealth" --server "127.0.0.1:$port" || true

step "dcat: the first lines, through the server"
show "dcat --plain --files app.log | head -n 3"
("$B/dcat" "${C[@]}" --plain --files "$W/logs/app.log" || true) | head -n 3

step "dgrep: lines with status=503, with the REMOTE prefix"
show "dgrep --noColor --grep status=503 --max 3 --files app.log"
"$B/dgrep" "${C[@]}" --noColor --grep status=503 --max 3 --files "$W/logs/app.log"
show "dgrep --plain --grep status=503 --files app.log | wc -l"
"$B/dgrep" "${C[@]}" --plain --grep status=503 --files "$W/logs/app.log" | wc -l

step "dtail: follow the log while lines are appended"
"$B/dtail" "${C[@]}" --plain --quiet --grep 'demo' --files "$W/logs/app.log" > "$W/follow.out" 2>&1 &
fpid=$!
pids+=($fpid)
sleep 2
for i in 1 2 3; do echo "INFO|20211002-235959|1|demo.go:1|demo line $i" >> "$W/logs/app.log"; sleep 0.3; done
sleep 1.5
kill "$fpid"; wait "$fpid" 2>/dev/null || true
show "dtail --plain --grep demo --files app.log   (3 lines appended)"
cat "$W/follow.out"

step "aggregate: requests per action, computed on the server, merged by the client"
q='from STATS select action,count($line),avg(latency_ms) group by action order by count($line)'
show "dmap --query '$q' --files app.log"
"$B/dmap" "${C[@]}" --noColor --query "$q" --files "$W/logs/app.log"

step "done; stopping dserver"
