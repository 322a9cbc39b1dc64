#!/usr/bin/env bash
# Ensures PostgreSQL 15 server binaries and the pgvector extension are installed (Debian, as root).
# Each step is skipped when already satisfied. pgvector is not packaged for this Debian release, so it
# is built from Debian trixie's source package against PostgreSQL 15.
set -euo pipefail
pg_version=15
pg_bin="/usr/lib/postgresql/$pg_version/bin"
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
apt_updated=""
apt_update() { [ -n "$apt_updated" ] || { $sudo_cmd apt-get update -qq >&2; apt_updated=1; }; }

if [ -x "$pg_bin/initdb" ] && [ -x "$pg_bin/pg_ctl" ] && [ -x "$pg_bin/postgres" ]; then
  echo "postgresql-$pg_version server already installed, skipping" >&2
else
  echo "installing postgresql-$pg_version" >&2
  apt_update
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "postgresql-$pg_version" >&2
fi

sharedir="/usr/share/postgresql/$pg_version"
if [ -f "$sharedir/extension/vector.control" ]; then
  echo "pgvector already installed, skipping" >&2
  exit 0
fi

echo "building pgvector from Debian trixie's source package" >&2
src_list=/etc/apt/sources.list.d/huddle-trixie-src.sources
if [ ! -f "$src_list" ]; then
  uri="$(grep -hoE 'https?://[^ ]*/debian/?$' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n1 || true)"
  uri="${uri:-http://deb.debian.org/debian}"
  printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" \
    | $sudo_cmd tee "$src_list" >/dev/null
  apt_updated=""
fi
apt_update
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "postgresql-server-dev-$pg_version" make gcc dpkg-dev >&2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get source --download-only pgvector >&2 && tar -xf pgvector_*.orig.tar.* )
srcdir="$(find "$work" -maxdepth 1 -mindepth 1 -type d | head -n1)"
make -C "$srcdir" -j"$(nproc)" PG_CONFIG="$pg_bin/pg_config" >&2
$sudo_cmd make -C "$srcdir" PG_CONFIG="$pg_bin/pg_config" install >&2
echo "pgvector installed into $sharedir/extension" >&2
