#!/usr/bin/env bash
# Installs the server and client .deb on this machine and checks them the
# way systemd would run them, without systemd:
#
#  1. builds linux/<host arch> binaries and the two .deb into dist/test-packages
#  2. dpkg -i; checks the dserver user/group, directories, conffile, man pages
#  3. systemd-analyze verify on the three units (any warning fails)
#  4. runs the packaged dtail-keycache as the timer unit does, for two test
#     users, one of them with a command= key that must be skipped
#  5. runs the packaged dserver with the unit's User=, Group=,
#     WorkingDirectory=, capabilities and ExecStart= command line, under
#     setpriv (ambient CAP_DAC_READ_SEARCH, bounding set reduced to it,
#     no_new_privs)
#  6. dtailhealth against it; dcat of a 0600 file that the dserver user
#     cannot read by mode bits but the capability allows, as its owner (gets
#     the content) and as another user (gets nothing), and with the
#     command= key (refused)
#  7. SIGTERM, expects exit 0; dpkg --purge; checks user and data are gone
#
# Needs root on a Debian-family machine, setpriv (util-linux) and
# ssh-keygen. Everything it starts is stopped by PID; the test users and
# files are removed on exit. Takes about a minute (mostly the build).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) != 0 ]]; then echo "test-packages: must run as root" >&2; exit 1; fi
for tool in dpkg setpriv ssh-keygen useradd; do
    command -v "$tool" >/dev/null || { echo "test-packages: $tool not found" >&2; exit 1; }
done

DIST=${DIST:-dist/test-packages}
ARCH=$(dpkg --print-architecture)
U_OK=dtpkgu   # SSH user allowed by mode bits
U_NO=dtpkgo   # SSH user not allowed by mode bits
U_CMD=dtpkgc  # SSH user whose only key has a command= option
TESTDIR=/var/log/dtail-pkgtest
SECRET=$TESTDIR/secret.log
SERVER_PID=""
fails=0
step() { printf '\n== %s\n' "$*"; }
passes=0
ok() { printf 'ok   %s\n' "$*"; passes=$((passes + 1)); }
fail() { printf 'FAIL %s\n' "$*"; fails=$((fails + 1)); }
check() { # check DESCRIPTION COMMAND...
    local d=$1
    shift
    if "$@"; then ok "$d"; else fail "$d"; fi
}

cleanup() {
    set +e
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        wait "$SERVER_PID" 2>/dev/null
    fi
    for u in $U_OK $U_NO $U_CMD; do
        id "$u" >/dev/null 2>&1 && userdel -r "$u" >/dev/null 2>&1
    done
    rm -rf "$TESTDIR"
    if dpkg -s dtail-server >/dev/null 2>&1 || dpkg -s dtail-clients >/dev/null 2>&1; then
        dpkg --purge dtail-server dtail-clients >/dev/null 2>&1
    fi
}
trap cleanup EXIT

step "build"
if dpkg -s dtail-server >/dev/null 2>&1 || dpkg -s dtail-clients >/dev/null 2>&1; then
    echo "test-packages: dtail-server/dtail-clients already installed; purging them first"
    dpkg --purge dtail-server dtail-clients >/dev/null
fi
rm -rf "$DIST"
VERSION=$(bash build/version.sh)
export VERSION DIST
TARGETS="linux/$ARCH" bash build/release.sh | grep -v '^checksums:'
ARCHES=$ARCH FORMATS=deb bash build/packages.sh | grep -E '^packages: +[0-9]'
PKG_VERSION=$(echo "$VERSION" | sed -e 's/-/+/' -e 's/-/./g')
SERVER_DEB="$DIST/dtail-server_${PKG_VERSION}-1_${ARCH}.deb"
CLIENTS_DEB="$DIST/dtail-clients_${PKG_VERSION}-1_${ARCH}.deb"

step "install"
dpkg -i "$SERVER_DEB" "$CLIENTS_DEB" | grep -E '^(Setting up|Unpacking)'
check "dserver system user and group exist" bash -c 'id -u dserver >/dev/null && getent group dserver >/dev/null && (( $(id -u dserver) < 1000 ))'
check "dserver has no login shell" bash -c '[[ $(getent passwd dserver | cut -d: -f7) == */nologin ]]'
for d in /var/log/dserver /var/cache/dserver; do
    check "$d is dserver:dserver 0750" bash -c "[[ \$(stat -c '%U:%G %a' $d) == 'dserver:dserver 750' ]]"
done
check "/etc/dtail/dtail.json is a conffile, root:dserver 0640" bash -c \
    "dpkg-query -W -f='\${Conffiles}' dtail-server | grep -q /etc/dtail/dtail.json && [[ \$(stat -c '%U:%G %a' /etc/dtail/dtail.json) == 'root:dserver 640' ]]"
check "dserver -version is stamped with $VERSION" bash -c \
    "[[ \$(setpriv --reuid=dserver --regid=dserver --init-groups /usr/bin/dserver -version) == 'DTail $VERSION Protocol 4.1 Have a lot of fun!' ]]"
for m in man8/dserver.8.gz man8/dtail-keycache.8.gz man5/dtail.json.5.gz man1/dcat.1.gz; do
    check "man page /usr/share/man/$m" test -s "/usr/share/man/$m"
done
check "bash completion for dcat" test -s /usr/share/bash-completion/completions/dcat
# An operator's edit of the conffile survives an upgrade (here: reinstall).
sed -i 's/"MaxConnections": 50/"MaxConnections": 51/' /etc/dtail/dtail.json
dpkg -i "$SERVER_DEB" >/dev/null
check "edited /etc/dtail/dtail.json kept on upgrade, still root:dserver 0640" bash -c \
    "grep -q '\"MaxConnections\": 51' /etc/dtail/dtail.json && [[ \$(stat -c '%U:%G %a' /etc/dtail/dtail.json) == 'root:dserver 640' ]]"

UNIT=/usr/lib/systemd/system/dserver.service
step "systemd-analyze verify"
if command -v systemd-analyze >/dev/null; then
    for u in "$UNIT" /usr/lib/systemd/system/dtail-keycache.service /usr/lib/systemd/system/dtail-keycache.timer; do
        out=$(systemd-analyze verify "$u" 2>&1) && [[ -z $out ]] && ok "verify $(basename "$u")" || { fail "verify $(basename "$u")"; echo "$out"; }
    done
else
    echo "systemd-analyze not installed; skipped"
fi

unitval() { sed -n "s/^$2=//p" "$1" | tail -1; }
for k in User=dserver Group=dserver AmbientCapabilities=CAP_DAC_READ_SEARCH CapabilityBoundingSet=CAP_DAC_READ_SEARCH \
    NoNewPrivileges=yes ProtectSystem=strict ProtectHome=read-only PrivateTmp=yes Restart=on-failure KillSignal=SIGTERM \
    "ReadWritePaths=/var/log/dserver /var/cache/dserver"; do
    check "unit has $k" grep -qx "$k" "$UNIT"
done
EXEC=$(unitval "$UNIT" ExecStart)
WORKDIR=$(unitval "$UNIT" WorkingDirectory)
RUN_USER=$(unitval "$UNIT" User)
RUN_GROUP=$(unitval "$UNIT" Group)
check "ExecStart is /usr/bin/dserver -cfg /etc/dtail/dtail.json" test "$EXEC" = "/usr/bin/dserver -cfg /etc/dtail/dtail.json"

# as_unit runs a command the way the unit runs its ExecStart: as the unit's
# user with only CAP_DAC_READ_SEARCH (ambient and bounding), no_new_privs,
# a clean environment and the unit's working directory.
# as_unit_exec replaces the calling (sub)shell, so "as_unit_exec ... &"
# leaves the program's own PID in $!.
as_unit_exec() {
    cd "$WORKDIR"
    exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$WORKDIR" USER="$RUN_USER" LOGNAME="$RUN_USER" \
        setpriv --reuid="$RUN_USER" --regid="$RUN_GROUP" --init-groups \
        --inh-caps=-all,+dac_read_search --ambient-caps=-all,+dac_read_search \
        --bounding-set=-all,+dac_read_search --no-new-privs -- "$@"
}
as_unit() { (as_unit_exec "$@"); }
unit_can_read() { as_unit cat "$1" >/dev/null 2>&1; }
plain_cannot_read() { ! setpriv --reuid=dserver --regid=dserver --init-groups --inh-caps=-all --bounding-set=-all cat "$1" >/dev/null 2>&1; }

step "test users, keys and a file only its owner may read"
for u in $U_OK $U_NO $U_CMD; do
    useradd --create-home --shell /bin/sh "$u"
    install -d -o "$u" -g "$u" -m 0700 "/home/$u/.ssh"
    setpriv --reuid="$u" --regid="$u" --init-groups ssh-keygen -q -t ed25519 -N '' -C "$u" -f "/home/$u/.ssh/id_ed25519"
done
cp "/home/$U_OK/.ssh/id_ed25519.pub" "/home/$U_OK/.ssh/authorized_keys"
cp "/home/$U_NO/.ssh/id_ed25519.pub" "/home/$U_NO/.ssh/authorized_keys"
{ printf 'command="/bin/false" '; cat "/home/$U_CMD/.ssh/id_ed25519.pub"; } > "/home/$U_CMD/.ssh/authorized_keys"
for u in $U_OK $U_NO $U_CMD; do chown "$u:$u" "/home/$u/.ssh/authorized_keys"; chmod 0600 "/home/$u/.ssh/authorized_keys"; done
install -d -m 0755 "$TESTDIR"
printf 'line one of the secret\nline two of the secret\n' > "$SECRET"
chown "$U_OK:$U_OK" "$SECRET"
chmod 0600 "$SECRET"
# The command= user's own file: only the refused key stands between it and
# the content.
CMD_FILE=$TESTDIR/cmd-user.log
echo "readable by $U_CMD only" > "$CMD_FILE"
chown "$U_CMD:$U_CMD" "$CMD_FILE"
chmod 0600 "$CMD_FILE"
check "dserver cannot read $SECRET by mode bits" plain_cannot_read "$SECRET"
check "with CAP_DAC_READ_SEARCH it can" unit_can_read "$SECRET"

step "dtail-keycache as the timer's unit runs it"
KC_EXEC=$(unitval /usr/lib/systemd/system/dtail-keycache.service ExecStart)
# shellcheck disable=SC2086 # the unit's command line, split as systemd splits it
as_unit $KC_EXEC -users "$U_OK,$U_NO,$U_CMD" 2>&1 | sed 's/^/keycache: /'
check "$U_OK.authorized_keys written, 0644, owned by dserver" bash -c \
    "[[ \$(stat -c '%U %a' /var/cache/dserver/$U_OK.authorized_keys) == 'dserver 644' ]] && grep -qF \"\$(cut -d' ' -f2 /home/$U_OK/.ssh/id_ed25519.pub)\" /var/cache/dserver/$U_OK.authorized_keys"
check "$U_CMD's command= key skipped; its cache file exists without keys" bash -c \
    "test -f /var/cache/dserver/$U_CMD.authorized_keys && ! grep -qF \"\$(cut -d' ' -f2 /home/$U_CMD/.ssh/id_ed25519.pub)\" /var/cache/dserver/$U_CMD.authorized_keys"

step "dserver with the unit's command line: $EXEC"
PORT=$(sed -n 's/.*"SSHPort": *\([0-9]*\).*/\1/p' /etc/dtail/dtail.json)
EXTRA=()
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    # Something else (another test) holds the packaged port here.
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    EXTRA=(-port "$PORT")
    echo "port from the config is busy; adding -port $PORT"
fi
# shellcheck disable=SC2086
as_unit_exec $EXEC "${EXTRA[@]}" > "$DIST/dserver.stdout" 2> "$DIST/dserver.stderr" &
SERVER_PID=$!
echo "dserver PID $SERVER_PID"
up=no
for _ in $(seq 1 120); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then up=yes; break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.5
done
check "dserver listens on $PORT" test $up = yes
check "dserver runs as dserver with only CAP_DAC_READ_SEARCH" bash -c \
    "[[ \$(stat -c %U /proc/$SERVER_PID) == dserver ]] && grep -q '^CapAmb:.*0000000000000004' /proc/$SERVER_PID/status && grep -q '^CapBnd:.*0000000000000004' /proc/$SERVER_PID/status && grep -q '^NoNewPrivs:.*1' /proc/$SERVER_PID/status"
check "host key created 0600 in the cache dir" bash -c "[[ \$(stat -c '%U %a' /var/cache/dserver/ssh_host_key) == 'dserver 600' ]]"

if [[ -x /usr/bin/dtailhealth ]]; then
    out=$(/usr/bin/dtailhealth -server "127.0.0.1:$PORT" 2>&1) && rc=0 || rc=$?
    echo "dtailhealth: $out (exit $rc)"
    check "dtailhealth OK" test "$rc:$out" = "0:OK: All fine at 127.0.0.1:$PORT :-)"
else
    echo "dtailhealth not packaged yet; skipped"
fi

dcat_as() { # dcat_as USER FILE: dcat of FILE over SSH as USER with the user's key
    setpriv --reuid="$1" --regid="$1" --init-groups env -i PATH=/usr/bin:/bin HOME="/home/$1" USER="$1" \
        timeout 30 /usr/bin/dcat -cfg none -servers "127.0.0.1:$PORT" -files "$2" -plain -trustAllHosts \
        -no-auth-key -auth-key-path "/home/$1/.ssh/id_ed25519" -logger stdout -logLevel warn
}
out=$(dcat_as $U_OK "$SECRET" 2>&1) && rc=0 || rc=$?
echo "dcat as $U_OK (exit $rc):"
printf '%s\n' "$out" | sed 's/^/  | /'
check "dcat as $U_OK returns the file the capability lets dserver open" bash -c '[[ "$1" == *"line one of the secret"*"line two of the secret"* ]]' _ "$out"
out=$(dcat_as $U_NO "$SECRET" 2>&1) && rc=0 || rc=$?
echo "dcat as $U_NO (exit $rc):"
printf '%s\n' "$out" | sed 's/^/  | /'
check "dcat as $U_NO (not allowed by mode bits) gets nothing of it" bash -c '[[ "$1" != *"of the secret"* ]]' _ "$out"
out=$(dcat_as $U_CMD "$CMD_FILE" 2>&1) && rc=0 || rc=$?
echo "dcat as $U_CMD with its command= key (exit $rc):"
printf '%s\n' "$out" | sed 's/^/  | /'
check "the command= key is not accepted (no content of $U_CMD's own file)" bash -c '[[ "$1" != *"readable by"* ]]' _ "$out"
check "$U_CMD's SSH login was refused" bash -c '[[ "$1" == *"unable to authenticate"* ]]' _ "$out"
check "dserver logs to /var/log/dserver" bash -c "ls /var/log/dserver/*.log >/dev/null 2>&1"

step "graceful stop"
kill -TERM "$SERVER_PID"
rc=0
wait "$SERVER_PID" || rc=$?
SERVER_PID=""
check "dserver exited 0 on SIGTERM (exit $rc)" test "$rc" = 0
sed 's/^/dserver stdout: /' "$DIST/dserver.stdout"
sed 's/^/dserver stderr: /' "$DIST/dserver.stderr"

step "purge"
dpkg --purge dtail-server dtail-clients | grep -E '^(Removing|Purging)'
check "dserver user and group removed" bash -c '! getent passwd dserver >/dev/null && ! getent group dserver >/dev/null'
check "/var/cache/dserver, /var/log/dserver, /etc/dtail removed" bash -c '! test -e /var/cache/dserver && ! test -e /var/log/dserver && ! test -e /etc/dtail'

echo
echo "test-packages: $passes passed, $fails failed"
((fails == 0))
