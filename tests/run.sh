#!/usr/bin/env bash
# The test command (README, and what .ci/run calls): installs the project into .venv, then runs the
# whole suite on SQLite and the database tests again (browser ones aside) on a real PostgreSQL
# server it starts itself.
# Kafka: tests start a local broker from deploy/kafka unless CK_KAFKA_BOOTSTRAP points at one.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'

if [ -z "${CK_KAFKA_BOOTSTRAP:-}" ]; then
  bash deploy/kafka/kafka.sh fetch
fi

echo "== tests on SQLite =="
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"

if [ -n "${CK_TEST_DATABASE_URL:-}" ]; then
  pg_url=$CK_TEST_DATABASE_URL
else
  pg_dir=$(mktemp -d /tmp/ck-pg.XXXXXX)
  chmod 755 "$pg_dir"
  trap 'bash deploy/postgres/local-postgres.sh stop "$pg_dir/data" || true; rm -rf "$pg_dir"' EXIT
  port=$(.venv/bin/python -c 'from connectors.sandbox.server import free_port; print(free_port())')
  pg_url=$(bash deploy/postgres/local-postgres.sh start "$pg_dir/data" "$port")
fi
echo "== database tests on PostgreSQL =="
CK_TEST_DATABASE_URL=$pg_url .venv/bin/python -m pytest -q -p no:cacheprovider -m "db and not browser" "$@"
