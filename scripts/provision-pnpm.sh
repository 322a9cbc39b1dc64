#!/usr/bin/env bash
# Installs exactly the pnpm version pinned in package.json's packageManager, so pnpm never tries to
# switch versions (which this machine refuses: the switch's registry signature cannot be verified).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pin="$(node -p "require('$root/package.json').packageManager.split('@')[1].split('+')[0]")"
if command -v pnpm >/dev/null && [ "$(COREPACK_ENABLE_STRICT=0 pnpm --version 2>/dev/null)" = "$pin" ]; then
  echo "pnpm $pin already installed, skipping" >&2
  exit 0
fi
echo "installing pnpm@$pin with npm" >&2
npm install -g --no-audit --no-fund "pnpm@$pin" >&2
