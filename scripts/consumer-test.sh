#!/usr/bin/env bash
# The consumer test, the README's "Using Huddle from another project" step by step: build and pack every
# package (pnpm release:dry-run), npm-install the tarballs into a temporary project outside the workspace,
# then (a) type-check a strict TypeScript consumer (scripts/consumer/) and the README's two examples with
# skipLibCheck off, (b) run the README's direct-use example with plain node on an embedded database, and
# (c) start the installed `huddle serve` and run the README's typed-client example against it, then stop it
# with SIGTERM and expect a clean exit. The server boots while (a) and (b) run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
app="$(mktemp -d "${TMPDIR:-/tmp}/huddle-consumer-XXXXXX")"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$app"
}
trap cleanup EXIT
started=$(date +%s)
step() { printf '\n== consumer test: %s (+%ss)\n' "$1" "$(($(date +%s) - started))"; }
fail() {
  printf 'consumer test: %s\n' "$1" >&2
  exit 1
}
# A catalog entry's version (pnpm-workspace.yaml), so the consumer's TypeScript is the workspace's.
catalog() { sed -n "s|^  \"\{0,1\}$1\"\{0,1\}: ||p" "$root/pnpm-workspace.yaml" | head -1; }
# The README's code block after `<!-- consumer-test: <name> -->`.
readme_example() {
  awk -v marker="<!-- consumer-test: $1 -->" '
    $0 == marker { found = 1; next }
    found && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }' "$root/README.md"
}

step "build and pack every package (pnpm release:dry-run)"
(cd "$root" && pnpm -s release:dry-run >"$app/pack.log" 2>&1) || {
  cat "$app/pack.log"
  fail "release:dry-run failed"
}
ls "$root/.release"

step "npm install the tarballs into $app"
cd "$app"
npm init -y >/dev/null
npm pkg set type=module "overrides.@electric-sql/pglite=$(catalog @electric-sql/pglite)"
npm install --no-audit --no-fund "$root"/.release/huddle-{api,cli,client,composition,db,decisions,planner,poker,scrum}-*.tgz
# PGlite's declarations name Emscripten's types without depending on them: with skipLibCheck off they need
# @types/emscripten (and the DOM library, as tRPC's fetch types do: scripts/consumer/tsconfig.json).
npm install --no-audit --no-fund --save-dev "typescript@$(catalog typescript)" "@types/node@$(catalog @types/node)" \
  @types/emscripten@1.41.6
for container_library in testcontainers @testcontainers/postgresql ssh2 cpu-features; do
  [[ ! -e "node_modules/$container_library" ]] || fail "$container_library was installed"
done

step "(c) start the installed server: huddle serve (in the background)"
XDG_DATA_HOME="$app/xdg" HUDDLE_PORT=0 HUDDLE_JOBS=off node_modules/.bin/huddle serve >server.log 2>&1 &
server_pid=$!

step "(a) tsc --noEmit --strict on the consumer and the README's examples (skipLibCheck off)"
cp "$root/scripts/consumer/consumer.ts" "$root/scripts/consumer/tsconfig.json" .
readme_example client-example >client-example.ts
readme_example direct-use >direct-use.ts
node_modules/.bin/tsc -p tsconfig.json --strict

step "(b) node: the README's direct-use example on an embedded database"
cp direct-use.ts direct-use.mjs
direct=$(HUDDLE_DATA_DIR="$app/data" node direct-use.mjs)
echo "$direct"
[[ "$direct" == 'Ann voted 5 on "Sign-in page"' ]] || fail "direct use printed: $direct"

step "(c) the README's typed-client example against the installed server"
url=""
for _ in $(seq 1 240); do
  url=$(grep -o 'listening on http://[^ ]*' server.log | head -1 | cut -d' ' -f3 || true)
  [[ -n "$url" ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat server.log; fail "huddle serve exited before listening"; }
  sleep 0.5
done
[[ -n "$url" ]] || { cat server.log; fail "huddle serve did not listen within 120 s"; }
echo "huddle serve: $url"
cp client-example.ts client-example.mjs
client=$(HUDDLE_URL="$url" node client-example.mjs)
echo "$client"
grep -qx 'Ann voted 5 on "Sign-in page"' <<<"$client" || fail "the client example did not vote"
grep -q '^BAD_REQUEST title title: ' <<<"$client" || fail "the client example's empty title was not a BAD_REQUEST naming title"

step "(c) stop the server with SIGTERM"
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
[[ "$status" == 0 ]] || { cat server.log; fail "huddle serve exited $status on SIGTERM"; }

step "done"
