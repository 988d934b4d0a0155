#!/bin/sh
# dtail-server post-remove (deb: "remove"/"purge"/..., rpm: "0" erase / "1" upgrade).
# Only a Debian purge deletes data, the key cache and the dserver user;
# rpm -e keeps /var/log/dserver and the user like most RPM packages do.
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || true
fi
if [ "$1" = purge ]; then
    rm -rf /var/cache/dserver /var/log/dserver
    if getent passwd dserver >/dev/null 2>&1; then
        userdel dserver >/dev/null 2>&1 || true
    fi
    if getent group dserver >/dev/null 2>&1; then
        groupdel dserver >/dev/null 2>&1 || true
    fi
    rmdir /etc/dtail 2>/dev/null || true
fi
exit 0
