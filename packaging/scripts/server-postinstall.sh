#!/bin/sh
# dtail-server post-install (deb: "configure [old-version]", rpm: "1" install / "2" upgrade).
set -e

# The user is created in preinstall; again here in case that was skipped
# (dpkg --unpack followed later by --configure on a host that lost it).
if ! getent group dserver >/dev/null 2>&1; then
    groupadd --system dserver
fi
if ! getent passwd dserver >/dev/null 2>&1; then
    useradd --system --gid dserver --home-dir /var/cache/dserver --no-create-home \
        --shell /usr/sbin/nologin --comment "DTail server" dserver
fi
install -d -o dserver -g dserver -m 0750 /var/log/dserver /var/cache/dserver
# The config may hold job names, which are passwords (Server.Schedule[].Name).
chown root:dserver /etc/dtail/dtail.json
chmod 0640 /etc/dtail/dtail.json

fresh=no
case "$1" in
    configure) [ -z "$2" ] && fresh=yes ;;
    1) fresh=yes ;;
esac

if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || true
    if [ "$fresh" = yes ]; then
        systemctl enable dserver.service dtail-keycache.timer >/dev/null 2>&1 || true
        systemctl start dtail-keycache.timer >/dev/null 2>&1 || true
        systemctl start dserver.service || true
    else
        systemctl try-restart dserver.service || true
    fi
fi
exit 0
