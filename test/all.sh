#!/usr/bin/env bash
# The test command: installs what the suites need, then runs every test of
# every module in the repository with the race detector.
#   1. test/setup.sh: the Debian packages (python-socketio, HAProxy, nginx,
#      Redis, proxies); does nothing when they are there.
#   2. npm ci for every package-lock.json under test/ (Node peers pinned by
#      their lockfiles).
#   3. go test -race for the core module and each nested module (every go.mod),
#      then the interop suite a second time against socket.io 3.1.
set -euo pipefail
cd "$(dirname "$0")/.."

bash test/setup.sh

while IFS= read -r lock; do
  npm ci --silent --no-audit --no-fund --prefix "$(dirname "$lock")"
done < <(find test -name package-lock.json -not -path '*/node_modules/*' | sort)

while IFS= read -r mod; do
  dir=$(dirname "$mod")
  echo "== go test -race ./... in ${dir}"
  (cd "$dir" && go test -race -count=1 ./...)
done < <(find . -name go.mod -not -path '*/node_modules/*' | sort)

echo "== the interop suite against socket.io 3.1"
SIO_INTEROP_SERVER=3 go test -race -count=1 ./test/interop/
