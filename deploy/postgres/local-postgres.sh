#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests: Debian's postgresql binaries, a data dir of its own,
# listening on 127.0.0.1 only. Usage: local-postgres.sh start DIR PORT | stop DIR
# `start` prints the database URL. As root it runs the server as the `postgres` system user.
set -euo pipefail
cmd=${1:?usage: local-postgres.sh start DIR PORT | stop DIR}
dir=${2:?data directory}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    port=${3:?port}
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir" -U ck --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
    as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U ck -d postgres -qAt \
      -c "SELECT 1 FROM pg_database WHERE datname='ck'" | grep -q 1 \
      || as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U ck ck
    echo "postgresql+psycopg://ck@127.0.0.1:$port/ck"
    ;;
  stop)
    [ -f "$dir/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
    ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
