#!/usr/bin/env bash
# Local single-node Apache Kafka 4.x (KRaft) on 127.0.0.1, from Maven Central jars, for humans and CI.
#
#   deploy/kafka/kafka.sh fetch    copy the jars into deploy/kafka/lib (once; skipped when current)
#   deploy/kafka/kafka.sh start    fetch if needed, format storage the first time, start, wait until
#                                  it answers, print the bootstrap address (127.0.0.1:PORT) on stdout
#   deploy/kafka/kafka.sh stop     SIGTERM, wait, SIGKILL after the timeout
#   deploy/kafka/kafka.sh status   exit 0 and describe it when running, exit 3 when not
#
# Environment: CK_KAFKA_PORT (9092), CK_KAFKA_CONTROLLER_PORT (9093),
#   CK_KAFKA_DATA_DIR (default <CK_DATA_DIR>/kafka = ./var/kafka; relative paths are taken from
#   the repository root), PYTHON (default: the repository's .venv/bin/python), JAVA_HOME (optional).
# Extra options go through: kafka.sh start --timeout 120
#
# All the logic lives in pipeline/kafka/local_broker.py; this script only finds Python and the repo.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
if [[ ! -x "$python" ]]; then
  python="$(command -v python3)"
fi

case "${1:-}" in
  fetch | start | stop | status) ;;
  *)
    echo "usage: $0 fetch|start|stop|status [--timeout SECONDS]" >&2
    exit 2
    ;;
esac

cd "$root"
exec "$python" -m pipeline.kafka.local_broker "$@"
