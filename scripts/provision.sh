#!/usr/bin/env bash
# Provisions what Huddle needs on a Debian machine without Docker: Node >= 22.17, the pinned pnpm,
# PostgreSQL 15 server binaries and pgvector. Every step is skipped when already satisfied.
# Prints the directory to put first on PATH when it had to install Node (nothing otherwise):
#   export PATH="$(bash scripts/provision.sh)${PATH:+:$PATH}"   (or: eval "$(bash scripts/provision.sh --env)")
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
node_bin="$(bash "$here/provision-node.sh")"
[ -z "$node_bin" ] || export PATH="$node_bin:$PATH"
bash "$here/provision-pnpm.sh"
bash "$here/provision-postgres.sh"
if [ "${1:-}" = "--env" ]; then
  [ -z "$node_bin" ] || echo "export PATH=\"$node_bin:\$PATH\""
else
  echo "$node_bin"
fi
