#!/usr/bin/env bash
# dgrep against GNU grep, ripgrep and ugrep for every kind of pattern an
# SRE types (issue 14): one hyperfine run per kind, output into a pipe,
# ratios from the medians of that run; peak RSS per kind; output checked
# identical to grep -E/-i on plain, .gz and .zst; optionally the same
# through one dserver vs `ssh host grep` (REMOTE=1).
#
#   bench/grep-matrix.sh                 # big.log (1 GB); bench/mkdata.sh runs if missing
#   SIZE=small bench/grep-matrix.sh      # med.log (100 MB), quick
#   BIN=/dir bench/grep-matrix.sh        # existing binaries (e.g. a baseline build)
#   BASE=/dir                            # also a baseline build's dgrep in the SAME
#                                        # hyperfine run (the "before" of a change)
#   RUNS=3 WARMUP=1                      # hyperfine settings
#   ONLY='weak|zst'                      # only the kinds whose name matches (extended regex)
#   CHECK=0 RSS=0                        # skip the correctness / RSS parts
#   REMOTE=1                             # also dgrep through a dserver vs ssh grep (sshd as SRV_USER)
#
# Output lines to look for:
#   CHECK  <kind> <file>: OK|FAIL
#   RATIO  <kind>: dgrep/grep = X  dgrep/rg = Y  dgrep/ugrep = Z   [medians]
#   RSS    <kind>: dgrep N MB
# Exit status 1 if a correctness check failed.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZE=${SIZE:-full}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-1}
ONLY=${ONLY:-}
CHECK=${CHECK:-1}
RSS=${RSS:-1}
REMOTE=${REMOTE:-0}
case $SIZE in
full) F=big.log ;;
small) F=med.log ;;
*) die "SIZE must be 'full' or 'small', got '$SIZE'" ;;
esac

need_tools hyperfine zstd gzip time:time md5sum:coreutils rg:ripgrep ugrep python3
if [ -z "${BIN:-}" ]; then
	need_tools go
	BIN=$BENCH/bin
	log "building ./cmd/... into $BIN"
	(cd "$ROOT" && go build -o "$BIN/" ./cmd/...) || die "go build failed"
fi
[ -x "$BIN/dgrep" ] || die "$BIN/dgrep not found"
for f in "$F" "$F.gz" "$F.zst"; do
	if [ ! -s "$DATA/$f" ]; then
		SIZE=$SIZE DATA=$DATA "$BENCH/mkdata.sh" >&2 || die "mkdata.sh failed"
		break
	fi
done
DATA=$(cd "$DATA" && pwd)
cd "$DATA" || die "cannot cd to $DATA"
OUT=$(mktemp -d "${TMPDIR:-/tmp}/dtail-grepmatrix.XXXXXX")
chmod 755 "$OUT"
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
say() { echo "$*"; echo "$*" >>"$SUMMARY"; }
FAILED=0
median() { python3 -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["median"])' "$1" "$2"; }
div() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "nan" }'; }
q() { printf "%q" "$1"; }

# Kinds: NAME|FILE|DGREP PATTERN (RE2)|GREP ARGS|RG ARGS|UGREP ARGS
# grep/rg/ugrep take the same language as the pattern column except for
# case folding, which they spell -i. .gz/.zst kinds decompress with
# zcat/zstdcat into grep (grep cannot read them), rg -z and ugrep -z.
KINDS=(
	"rare literal|$F|lifetimeConnections=12345|-F lifetimeConnections=12345|-F lifetimeConnections=12345|-F lifetimeConnections=12345"
	"common literal (1 %)|$F|status=503|-F status=503|-F status=503|-F status=503"
	"literal set|$F|ERROR|status=503|-E ERROR|status=503|ERROR|status=503|-E ERROR|status=503"
	"case-insensitive word|$F|(?i)error|-i error|-i error|-i error"
	"weak literal|$F|[a-z]+=[0-9]{5}[|]|-E [a-z]+=[0-9]{5}[|]|[a-z]+=[0-9]{5}[|]|-E [a-z]+=[0-9]{5}[|]"
	"line-start alternation (25 %)|$F|^(WARN|ERROR|INFO\|[^|]*\|[12])|-E ^(WARN|ERROR|INFO\|[^|]*\|[12])|^(WARN|ERROR|INFO\|[^|]*\|[12])|-E ^(WARN|ERROR|INFO\|[^|]*\|[12])"
	"anchored at line end|$F|latency_ms=999$|-E latency_ms=999$|latency_ms=999$|-E latency_ms=999$"
	"high match rate (94 %)|$F|status=[23]0[02]|-E status=[23]0[02]|status=[23]0[02]|-E status=[23]0[02]"
	"no literal|$F|[a-z]{4}[0-9]{3}[05][^0-9]|-E [a-z]{4}[0-9]{3}[05][^0-9]|[a-z]{4}[0-9]{3}[05][^0-9]|-E [a-z]{4}[0-9]{3}[05][^0-9]"
	"literal set .gz|$F.gz|ERROR|status=503|-E ERROR|status=503|ERROR|status=503|-E ERROR|status=503"
	"case-insensitive .zst|$F.zst|(?i)error|-i error|-i error|-i error"
)

# split_args "-E pat" -> FLAG and PAT (a pattern may hold spaces: none here)
split_args() {
	case $1 in
	-[A-Za-z]\ *) FLAG=${1%% *}; PAT=${1#* } ;;
	*) FLAG=; PAT=$1 ;;
	esac
}

say "# grep-matrix.sh BASE=${BASE:-none} SIZE=$SIZE file=$F runs=$RUNS warmup=$WARMUP $(date -u +%FT%TZ) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"
say "# $(grep --version | head -1); $(rg --version | head -1); $(ugrep --version | head -1 | cut -d' ' -f1-2); dgrep $BIN/dgrep; LANG=${LANG:-unset}"

TO=900
for k in "${KINDS[@]}"; do
	IFS='|' read -r name file _ <<<"$k"
	rest=${k#*|*|}
	# fields after the file: the RE2 pattern may contain '|', so the four
	# command columns are split from the right.
	IFS=$'\x01' read -r dpat grepa rga ugrepa <<<"$(python3 -c '
import sys
parts = sys.argv[1].split("|")
# the four columns each hold the same number of "|"-separated pieces
n = len(parts) // 4
print("\x01".join("|".join(parts[i*n:(i+1)*n]) for i in range(4)))' "$rest")"
	if [ -n "$ONLY" ] && ! printf '%s' "$name" | grep -Eq -- "$ONLY"; then continue; fi
	dcmd="$BIN/dgrep --cfg none --plain --regex $(q "$dpat") $file"
	split_args "$grepa"
	case $file in
	*.gz) gcmd="zcat $file | grep $FLAG $(q "$PAT")" ;;
	*.zst) gcmd="zstdcat $file | grep $FLAG $(q "$PAT")" ;;
	*) gcmd="grep $FLAG $(q "$PAT") $file" ;;
	esac
	z=
	case $file in *.gz | *.zst) z=-z ;; esac
	split_args "$rga"
	rcmd="rg $z $FLAG $(q "$PAT") $file"
	split_args "$ugrepa"
	ucmd="ugrep $z $FLAG $(q "$PAT") $file"
	echo
	echo "=== $name: $dcmd"
	if [ "$CHECK" = 1 ]; then
		# Output identical to grep for the plain file and both compressed
		# forms of it (the plain grep output is the reference).
		base=${file%.gz}
		base=${base%.zst}
		split_args "$grepa"
		want=$(grep $FLAG "$PAT" "$base" | md5sum | cut -d' ' -f1)
		wantn=$(grep -c $FLAG "$PAT" "$base")
		for ff in "$base" "$base.gz" "$base.zst"; do
			got=$(timeout $TO "$BIN/dgrep" --cfg none --plain --regex "$dpat" "$ff" | md5sum | cut -d' ' -f1)
			rc=${PIPESTATUS[0]}
			if [ "$got" = "$want" ] && [ "$rc" = 0 ]; then
				say "CHECK $name $ff: = grep $FLAG ($wantn lines) OK"
			else
				say "CHECK $name $ff: FAIL (grep $FLAG '$PAT': md5 $want; dgrep: md5 $got exit $rc)"
				FAILED=1
			fi
		done
	fi
	if [ "$RSS" = 1 ]; then
		/usr/bin/time -f %M -o "$OUT/rss" timeout $TO "$BIN/dgrep" --cfg none --plain --regex "$dpat" "$file" | cat >/dev/null
		dk=$(tail -n 1 "$OUT/rss")
		say "RSS $name: dgrep $((dk / 1024)) MB (peak RSS, output into a pipe)"
	fi
	json=$OUT/$(echo "$name" | tr -c 'A-Za-z0-9_.-' '_').json
	before=()
	[ -n "${BASE:-}" ] && before=(-n before "${dcmd//"$BIN"/"$BASE"}")
	if ! hyperfine --runs "$RUNS" --warmup "$WARMUP" --output=pipe --export-json "$json" \
		-n dgrep "$dcmd" -n grep "$gcmd" -n rg "$rcmd" -n ugrep "$ucmd" "${before[@]}"; then
		say "RATIO $name: hyperfine failed FAIL"
		FAILED=1
		continue
	fi
	d=$(median "$json" 0) g=$(median "$json" 1) r=$(median "$json" 2) u=$(median "$json" 3)
	say "RATIO $name: dgrep/grep = $(div "$d" "$g")  dgrep/rg = $(div "$d" "$r")  dgrep/ugrep = $(div "$d" "$u")   [medians s: dgrep $d grep $g rg $r ugrep $u]"
	if [ -n "${BASE:-}" ]; then
		b=$(median "$json" 4)
		say "BEFORE $name: before/grep = $(div "$b" "$g")  before/rg = $(div "$b" "$r")  dgrep/before = $(div "$d" "$b")   [median s: before $b]"
	fi
done

if [ "$REMOTE" = 1 ]; then
	# One dserver and one unprivileged sshd on 127.0.0.1, as bench/remote.sh.
	need_tools ssh:openssh-client ssh-keygen:openssh-client setpriv:util-linux
	SSHD=/usr/sbin/sshd
	[ -x $SSHD ] || need_tools sshd:openssh-server
	bench_server_user
	start_bench_dserver
	mkdir -p "$OUT/sshd"
	ssh-keygen -q -t ed25519 -N "" -f "$OUT/sshd/ssh_host_ed25519_key"
	cp "$KEY.pub" "$OUT/sshd/authorized_keys"
	SSH_PORT=$((DS_PORT + 1))
	cat >"$OUT/sshd/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $SSH_PORT
HostKey $OUT/sshd/ssh_host_ed25519_key
PidFile $OUT/sshd/sshd.pid
AuthorizedKeysFile $OUT/sshd/authorized_keys
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
LogLevel ERROR
EOF
	chmod 600 "$OUT/sshd/ssh_host_ed25519_key"
	[ "$(id -u)" = 0 ] && chown -R "$SRV_USER:" "$OUT/sshd"
	(cd "$OUT/sshd" && exec "${AS_SRV[@]}" "$SSHD" -D -e -f "$OUT/sshd/sshd_config" >"$OUT/sshd.out" 2>&1) &
	SSHD_PID=$!
	trap 'stop "$DS_PID"; stop "$SSHD_PID"' EXIT
	for _ in $(seq 200); do (: >"/dev/tcp/127.0.0.1/$SSH_PORT") 2>/dev/null && break; sleep 0.05; done
	export HOME=$OUT/home
	S="--cfg none --plain --servers 127.0.0.1:$DS_PORT --user $SRV_USER --auth-key-path $KEY --trustAllHosts"
	SSH="ssh -p $SSH_PORT -i $KEY -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR $SRV_USER@127.0.0.1"
	for k in "case-insensitive word|(?i)error|-i error" "weak literal|[a-z]+=[0-9]{5}[|]|-E [a-z]+=[0-9]{5}[|]" "literal set|ERROR|status=503|-E ERROR|status=503"; do
		name=${k%%|*}
		if [ -n "$ONLY" ] && ! printf '%s' "$name" | grep -Eq -- "$ONLY"; then continue; fi
		rest=${k#*|}
		dpat=${rest%|-[A-Za-z] *}
		split_args "${rest#"$dpat|"}"
		dcmd="$BIN/dgrep $S --regex $(q "$dpat") --files $DATA/$F"
		scmd="$SSH grep $FLAG $(q "$(q "$PAT")") $DATA/$F"
		want=$(grep $FLAG "$PAT" "$F" | md5sum | cut -d' ' -f1)
		got=$(timeout $TO bash -c "$dcmd" 2>"$OUT/remote.err" | md5sum | cut -d' ' -f1)
		sgot=$(bash -c "$scmd" | md5sum | cut -d' ' -f1)
		if [ "$got" = "$want" ] && [ "$sgot" = "$want" ]; then
			say "CHECK remote $name: dgrep via dserver = ssh grep = grep OK"
		else
			say "CHECK remote $name: FAIL (grep $want, dserver $got, ssh grep $sgot; $(head -c 200 "$OUT/remote.err"))"
			FAILED=1
		fi
		json=$OUT/remote-$(echo "$name" | tr -c 'A-Za-z0-9_.-' '_').json
		hyperfine --runs "$RUNS" --warmup "$WARMUP" --output=pipe --export-json "$json" \
			-n "dgrep via dserver" "$dcmd" -n "ssh grep" "$scmd" || { FAILED=1; continue; }
		say "RATIO remote $name: dserver/ssh-grep = $(div "$(median "$json" 0)" "$(median "$json" 1)")   [medians s: $(median "$json" 0) $(median "$json" 1)]"
	done
fi

echo
echo "==================== summary (also in $SUMMARY; hyperfine JSON in $OUT) ===================="
cat "$SUMMARY"
exit $FAILED
