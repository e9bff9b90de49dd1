#!/usr/bin/env bash
# Installs the Debian packages the test suites need: the python-socketio
# interop peer, and the load balancers, Redis and proxies of the deployment
# tests. Idempotent: it installs only what is missing, and does nothing (not
# even apt-get update) when everything is there. Needs root, as CI has.
set -euo pipefail

packages=(
  python3-socketio python3-aiohttp # test/python: the python-socketio peer
  haproxy nginx-light redis-server # test/deploy: balancers and the adapter's Redis
  tinyproxy dante-server openssl   # test/deploy: HTTP CONNECT and SOCKS5 proxies, TLS
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "test/setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Packages whose postinst starts a service (nginx, redis, haproxy, tinyproxy,
# danted) must not leave it running: the tests start their own on loopback
# ports. policy-rc.d tells invoke-rc.d not to start anything.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  created_policy=1
fi
trap '((created_policy)) && rm -f "$policy"' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
