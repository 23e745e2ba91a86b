#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster: initdb into a temporary directory (as
# user postgres when run as root, since PostgreSQL refuses root), started on a free loopback
# port, stopped and deleted when the command ends. The command sees MLROOTS_TEST_PG_BIN (the
# binaries) and MLROOTS_TEST_PG_URL (postgres://postgres@127.0.0.1:PORT, no database name:
# the Python tests create one database per server).
#   scripts/with-postgres.sh python3 -m pytest -q python/tests
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "with-postgres: no PostgreSQL under /usr/lib/postgresql/*/bin; run scripts/ci-deps.sh" >&2
  exit 1
fi
dir=$(mktemp -d)
as=()
if [ "$(id -u)" = 0 ]; then
  chown -R postgres:postgres "$dir"
  as=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
stop() {
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
"${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log"; exit 1; }
"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null \
  || { cat "$dir/log"; exit 1; }
export MLROOTS_TEST_PG_BIN="$bin" MLROOTS_TEST_PG_URL="postgres://postgres@127.0.0.1:$port"
"$@"
