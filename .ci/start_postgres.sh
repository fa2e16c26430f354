#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on 127.0.0.1 for the sweep tests.
#
#   eval "$(bash .ci/start_postgres.sh "$(mktemp -d)")"   # exports AELAB_TEST_POSTGRES_URL
#   bash .ci/start_postgres.sh --stop DATA_DIR        # stops it
#
# DATA_DIR must be empty or missing, in a directory the postgres user can enter.
# Installs Debian's `postgresql` package if the server binaries are missing, creates a
# cluster in DATA_DIR (owned by the `postgres` user when run as root: the server refuses
# to run as root), starts it on a free loopback port, and creates the user `aelab` (with
# a random password, so the tests also check that it never leaks) and the database
# `aelab_test`. Only the export line goes to stdout; progress goes to stderr.
set -euo pipefail

say() { echo "start_postgres: $*" >&2; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

find_bindir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/pg_ctl" ]; then echo "$dir"; fi
  done | sort -V | tail -n 1
}

if [ "${1:-}" = "--stop" ]; then
  data_dir=$2
  bindir=$(find_bindir)
  if [ -n "$bindir" ] && [ -f "$data_dir/postmaster.pid" ]; then
    as_owner "$bindir/pg_ctl" -D "$data_dir" -m fast -w stop >&2 || true
  fi
  exit 0
fi

data_dir=${1:?usage: start_postgres.sh DATA_DIR | --stop DATA_DIR}

bindir=$(find_bindir)
if [ -z "$bindir" ]; then
  if [ "$(id -u)" != 0 ]; then
    say "PostgreSQL is not installed and this is not root: apt-get install postgresql first."
    exit 1
  fi
  say "installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bindir=$(find_bindir)
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')

mkdir -p "$data_dir"
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$data_dir"
  chmod 700 "$data_dir"
fi
say "initdb in $data_dir (PostgreSQL $("$bindir/postgres" --version | awk '{print $3}'))"
as_owner "$bindir/initdb" -D "$data_dir" -U postgres --auth-local=trust \
  --auth-host=scram-sha-256 -E UTF8 --no-sync >/dev/null
as_owner "$bindir/pg_ctl" -D "$data_dir" -l "$data_dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $data_dir -c fsync=off" start >&2

psql_local() { as_owner psql -h "$data_dir" -p "$port" -U postgres -v ON_ERROR_STOP=1 -q "$@"; }
psql_local -c "CREATE ROLE aelab LOGIN PASSWORD '$password';" >&2
psql_local -c "CREATE DATABASE aelab_test OWNER aelab;" >&2
say "server on 127.0.0.1:$port, database aelab_test"
echo "export AELAB_TEST_POSTGRES_URL=postgresql://aelab:$password@127.0.0.1:$port/aelab_test"
