#!/usr/bin/env bash
# Notebooks 08 and 09 and their tests run real servers next to Tornado:
# Debian's nginx (a reverse proxy) and redis-server (pub/sub between
# processes). The tutorial starts them itself, as this user, on free loopback
# ports; the packages' own system services are not needed (and are not
# started inside containers).
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Debian's ${missing[*]} for notebooks 08 and 09"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "error: notebooks 08 and 09 need ${missing[*]}; install with 'sudo apt-get install ${missing[*]}'" \
         "(macOS: brew install redis nginx; conda: conda install -c conda-forge redis-server nginx)" >&2
    exit 1
fi
