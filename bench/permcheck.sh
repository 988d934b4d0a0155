#!/usr/bin/env bash
# Cost of dserver's per-file permission check (issue 5: "under 5 % of dcat
# wall time on a glob of 1,000 small files").
#
#   bench/permcheck.sh               # 1,000 files of 10 lines, hyperfine 10 runs
#   FILES=1000 RUNS=10 bench/permcheck.sh
#   BIN=/dir bench/permcheck.sh      # use existing binaries instead of building
#
# dserver has no switch to turn the check off, so the script reports:
#   1. hyperfine: serverless `dcat` of the glob (no check at all) vs `dcat`
#      through a local dserver (check on every file) -- the server path also
#      pays SSH, the protocol and the server's output pacing, so this ratio
#      is an upper bound of what the check could cost, not the check itself;
#      with AB=1 (default) also a throw-away dserver built from a copy of
#      the tracked sources in which opener() passes permission.Skip for
#      every user (the same bypass job users get), nothing in the repo is
#      touched -- the direct A/B of the check's wall-time share;
#   2. bench/permcost: ns per file of os.Open vs permission.Open without the
#      user decision (Skip) vs the full check, on the same 1,000 files;
#   3. `go test -bench` of internal/permission if it has benchmarks;
#   4. PERMCHECK share: 1,000 x (full - os.Open) / server dcat median (a
#      serial upper bound: dserver checks the files of a glob concurrently)
#      and, with AB=1, the measured (check on - bypassed) / check on from
#      ABRUNS (30) interleaved pairs.
# As root, dserver runs as the user dtbench (created if missing), which is
# also the SSH user the check is made for.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FILES=${FILES:-1000}
RUNS=${RUNS:-10}
AB=${AB:-1}
need_tools hyperfine python3 ssh-keygen:openssh-client awk sort:coreutils md5sum:coreutils

if [ -z "${BIN:-}" ]; then
	need_tools go
	BIN=$BENCH/bin
	log "building ./cmd/... and bench/permcost into $BIN"
	(cd "$ROOT" && go build -o "$BIN/" ./cmd/... && go build -o "$BIN/permcost" ./bench/permcost) || die "go build failed"
fi
[ -x "$BIN/dcat" ] && [ -x "$BIN/dserver" ] || die "$BIN/dcat or dserver not found"
if [ ! -x "$BIN/permcost" ]; then
	(cd "$ROOT" && go build -o "$BIN/permcost" ./bench/permcost) || die "go build ./bench/permcost failed"
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/dtail-permcheck.XXXXXX")
chmod 755 "$W"
SRV_PID= SRV2_PID=
cleanup() {
	[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
	[ -n "$SRV2_PID" ] && kill "$SRV2_PID" 2>/dev/null && wait "$SRV2_PID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

# build_bypass: dserver from a copy of the tracked sources with the user
# check bypassed in opener(); prints the binary path, fails quietly.
build_bypass() {
	command -v go >/dev/null && command -v git >/dev/null || return 1
	local src=$W/ab
	mkdir -p "$src" && (cd "$ROOT" && git ls-files -z | tar --null -cf - -T - 2>/dev/null) | tar -xf - -C "$src" || return 1
	perl -0pi -e 's/\tvar opts \[\]permission\.Option\n/\topts := []permission.Option{permission.Skip} \/\/ bench: check bypassed\n/' \
		"$src/internal/cli/server.go" || return 1
	grep -q 'bench: check bypassed' "$src/internal/cli/server.go" || return 1
	(cd "$src" && go build -o "$W/dserver-nocheck" ./cmd/dserver) >&2 || return 1
	echo "$W/dserver-nocheck"
}
NOCHECK=
if [ "$AB" = 1 ]; then
	log "building a throw-away dserver with the check bypassed (AB=0 to skip) ..."
	NOCHECK=$(build_bypass) || { log "bypass build failed; A/B skipped"; NOCHECK=; }
fi

if [ "$(id -u)" = 0 ]; then
	SRV_USER=dtbench
	id "$SRV_USER" >/dev/null 2>&1 || useradd -M -U -s /usr/sbin/nologin "$SRV_USER" || die "useradd $SRV_USER failed"
	RUN_SRV=(setpriv "--reuid=$SRV_USER" "--regid=$SRV_USER" --clear-groups)
else
	SRV_USER=$(id -un)
	RUN_SRV=()
fi

mkdir -p "$W/srv/cache" "$W/home/.ssh" "$W/files"
chmod 700 "$W/home/.ssh"
ssh-keygen -q -t rsa -b 2048 -m PEM -N "" -f "$W/srv/cache/ssh_host_key"
ssh-keygen -q -t ed25519 -N "" -f "$W/home/.ssh/id_ed25519"
cp "$W/home/.ssh/id_ed25519.pub" "$W/srv/cache/$SRV_USER.authorized_keys"
[ "$(id -u)" = 0 ] && chown -R "$SRV_USER:" "$W/srv"
awk -v n="$FILES" -v dir="$W/files" 'BEGIN{
	for (f = 0; f < n; f++) {
		p = sprintf("%s/f%04d.log", dir, f)
		for (l = 1; l <= 10; l++) printf "file %04d line %02d some small log payload status=200\n", f, l > p
		close(p)
	}}'
chmod 644 "$W"/files/*.log
GLOB="$W/files/*.log"

PORT=$(awk 'BEGIN{srand(); print 20000 + int(rand()*20000)}')
(cd "$W/srv" && exec "${RUN_SRV[@]}" "$BIN/dserver" --cfg none --logger stdout --logLevel warn \
	--bindAddress 127.0.0.1 --port "$PORT" >"$W/dserver.out" 2>&1) &
SRV_PID=$!
for _ in $(seq 200); do (: >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
(: >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || { cat "$W/dserver.out" >&2; die "dserver did not listen on $PORT"; }

if [ -n "$NOCHECK" ]; then
	[ "$(id -u)" = 0 ] && chown "$SRV_USER:" "$NOCHECK"
	PORT2=$((PORT + 1))
	(cd "$W/srv" && exec "${RUN_SRV[@]}" "$NOCHECK" --cfg none --logger stdout --logLevel warn \
		--bindAddress 127.0.0.1 --port "$PORT2" >"$W/dserver2.out" 2>&1) &
	SRV2_PID=$!
	for _ in $(seq 200); do (: >"/dev/tcp/127.0.0.1/$PORT2") 2>/dev/null && break; sleep 0.05; done
	(: >"/dev/tcp/127.0.0.1/$PORT2") 2>/dev/null || { log "bypass dserver did not listen; A/B skipped"; NOCHECK=; }
fi

SERVERLESS="$BIN/dcat --cfg none --plain --files '$GLOB'"
SERVER="HOME=$W/home $BIN/dcat --cfg none --plain --noColor --trustAllHosts --servers 127.0.0.1:$PORT --user $SRV_USER --auth-key-path $W/home/.ssh/id_ed25519 --files '$GLOB'"

# Correctness: both read every line of every file (order may differ).
WANT=$(cat "$W"/files/*.log | sort | md5sum)
GOT_SL=$(eval "$SERVERLESS" 2>/dev/null | sort | md5sum)
GOT_SRV=$(eval "$SERVER" 2>/dev/null | sort | md5sum)
[ "$GOT_SL" = "$WANT" ] && echo "CHECK serverless dcat reads all $FILES files: OK" || echo "CHECK serverless dcat reads all $FILES files: FAIL"
[ "$GOT_SRV" = "$WANT" ] && echo "CHECK server dcat reads all $FILES files: OK" || echo "CHECK server dcat reads all $FILES files: FAIL"
HF_EXTRA=()
if [ -n "$NOCHECK" ]; then
	SERVER2=${SERVER/127.0.0.1:$PORT /127.0.0.1:$PORT2 }
	HF_EXTRA=(-n "server dcat (check bypassed)" "bash -c \"$SERVER2 >/dev/null 2>&1\"")
	GOT_SRV2=$(eval "$SERVER2" 2>/dev/null | sort | md5sum)
	[ "$GOT_SRV2" = "$WANT" ] && echo "CHECK bypass server dcat reads all $FILES files: OK" || echo "CHECK bypass server dcat reads all $FILES files: FAIL"
fi

log "hyperfine: serverless vs server dcat of $FILES files ..."
hyperfine -N --runs "$RUNS" --warmup 1 --export-json "$W/hf.json" \
	-n "serverless dcat (no check)" "bash -c \"$SERVERLESS >/dev/null 2>&1\"" \
	-n "server dcat (check on)" "bash -c \"$SERVER >/dev/null 2>&1\"" "${HF_EXTRA[@]}" >&2
read -r MED_SL MED_SRV MED_NC < <(python3 -c '
import json,sys
r=json.load(open(sys.argv[1]))["results"]
print(r[0]["median"], r[1]["median"], r[2]["median"] if len(r) > 2 else "-")' "$W/hf.json")
printf 'DCAT serverless (no check): median %.3f s for %d files\n' "$MED_SL" "$FILES"
printf 'DCAT server (check on):     median %.3f s for %d files  (%.2fx serverless; includes SSH, protocol and output pacing)\n' \
	"$MED_SRV" "$FILES" "$(awk -v a="$MED_SRV" -v b="$MED_SL" 'BEGIN{print a/b}')"
[ "$MED_NC" != - ] && printf 'DCAT server (check bypassed): median %.3f s for %d files\n' "$MED_NC" "$FILES"

log "permcost: per-file cost of the check ..."
PC=$("$BIN/permcost" -user "$SRV_USER" "$W"/files/*.log) || die "permcost failed"
echo "$PC"
CHECK_NS=$(echo "$PC" | awk '/whole check/{print $5}')

if grep -qs 'func Benchmark' "$ROOT"/internal/permission/*_test.go; then
	log "go test -bench ./internal/permission ..."
	(cd "$ROOT" && go test -run '^$' -bench . -benchmem ./internal/permission) | grep -E '^Benchmark' | sed 's/^/GOBENCH /'
else
	echo "GOBENCH internal/permission has no Benchmark functions (none reported)"
fi

awk -v ns="$CHECK_NS" -v n="$FILES" -v t="$MED_SRV" 'BEGIN{
	s = ns * n / 1e9
	printf "PERMCHECK serial bound: %d files x %.0f ns (median) = %.2f ms = %.2f %% of the server dcat median wall time (target < 5 %%): %s\n",
		n, ns, s * 1000, 100 * s / t, (100 * s / t < 5 ? "OK" : "FAIL")
}'
if [ "$MED_NC" != - ]; then
	# Interleaved A/B (on, off, on, off, ...) so drift on a busy machine
	# hits both sides alike; medians and minima of ABRUNS pairs.
	log "interleaved A/B, ${ABRUNS:-30} pairs ..."
	python3 - "$SERVER" "$SERVER2" "${ABRUNS:-30}" <<'PY'
import statistics, subprocess, sys, time
on_cmd, off_cmd, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def t(cmd):
    s = time.perf_counter()
    subprocess.run(["bash", "-c", cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - s
on, off = [], []
for _ in range(n):
    on.append(t(on_cmd)); off.append(t(off_cmd))
mon, moff = statistics.median(on), statistics.median(off)
d = 100 * (mon - moff) / mon
print("PERMCHECK A/B interleaved (%d pairs): check on median %.1f ms (min %.1f), bypassed median %.1f ms (min %.1f): "
      "the check is %.1f %% of the server dcat median wall time (target < 5 %%): %s"
      % (n, mon * 1e3, min(on) * 1e3, moff * 1e3, min(off) * 1e3, d, "OK" if d < 5 else "FAIL"))
PY
fi
