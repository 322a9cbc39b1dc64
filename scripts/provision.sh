#!/usr/bin/env bash
# Provisions what Huddle needs on a Debian machine without Docker: Node >= 22.17, the pinned pnpm,
# PostgreSQL 15 server binaries and pgvector. Every step is skipped when already satisfied.
# Prints the directory to put first on PATH when it had to install Node (nothing otherwise):
#   export PATH="$(bash scripts/provision.sh)${PATH:+:$PATH}"   (or: eval "$(bash scripts/provision.sh --env)")
# --skip-postgres leaves out PostgreSQL and pgvector, for a caller that runs scripts/provision-postgres.sh
# beside its next steps (.ci/run: only the suites need it, and on a fresh machine it takes the longest).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
print_env="" with_postgres=1
for option in "$@"; do
  case "$option" in
    --env) print_env=1 ;;
    --skip-postgres) with_postgres="" ;;
    *) echo "provision.sh: unknown option $option (use --env, --skip-postgres)" >&2; exit 2 ;;
  esac
done
node_bin="$(bash "$here/provision-node.sh")"
[ -z "$node_bin" ] || export PATH="$node_bin:$PATH"
bash "$here/provision-pnpm.sh"
[ -z "$with_postgres" ] || bash "$here/provision-postgres.sh"
if [ -n "$print_env" ]; then
  [ -z "$node_bin" ] || echo "export PATH=\"$node_bin:\$PATH\""
else
  echo "$node_bin"
fi
