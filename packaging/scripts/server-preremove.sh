#!/bin/sh
# dtail-server pre-remove (deb: "remove"/"upgrade"/..., rpm: "0" erase / "1" upgrade).
set -e
case "$1" in
    remove|0)
        if [ -d /run/systemd/system ]; then
            systemctl disable --now dserver.service dtail-keycache.timer >/dev/null 2>&1 || true
        fi
        ;;
esac
exit 0
