#!/bin/sh
# dtail-server pre-install: the dserver user and group exist before the
# files are unpacked, so that rpm can give /etc/dtail/dtail.json its group.
set -e
if ! getent group dserver >/dev/null 2>&1; then
    groupadd --system dserver
fi
if ! getent passwd dserver >/dev/null 2>&1; then
    useradd --system --gid dserver --home-dir /var/cache/dserver --no-create-home \
        --shell /usr/sbin/nologin --comment "DTail server" dserver
fi
exit 0
