"""The real outbox relay, killed by SIGKILL at a chosen moment of its first batch (for the fault tests).

    python -m tests.integration.crashing_relay before-send   # outbox rows committed, nothing sent yet
    python -m tests.integration.crashing_relay after-send    # sent and acked by Kafka, `sent_at` not committed

The relay is `pipeline.distribution.relay.relay_once` with the one producer factory; the process
kills itself from inside the producer's own `send` or `flush`, so the broker, the database and
the relay code are all real and the transaction that would mark the rows sent never commits.
"""

import os
import signal
import sys

from pipeline.config import get_settings
from pipeline.distribution.relay import relay_once
from pipeline.kafka.producer import make_producer

MOMENTS = ("before-send", "after-send")


def main(moment: str) -> None:
    if moment not in MOMENTS:
        raise SystemExit(f"usage: python -m tests.integration.crashing_relay {{{'|'.join(MOMENTS)}}}")
    settings = get_settings()
    producer = make_producer(settings.kafka_bootstrap)
    real_send, real_flush = producer.send, producer.flush

    def die() -> None:
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    def send(*args, **kwargs):
        if moment == "before-send":
            die()
        return real_send(*args, **kwargs)

    def flush(*args, **kwargs):
        real_flush(*args, **kwargs)  # every message of the batch is on the broker now
        print("flushed", flush=True)
        die()

    producer.send, producer.flush = send, flush
    relay_once(producer, settings)
    raise SystemExit("the relay found nothing to send")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
