"""Every Kafka topic Central Kitchen uses, and the one place that creates them.

    ck.items               ninjs events from the outbox relay (key = item id)
    ck.deliver.<channel>   one delivery per target, for that channel's agent (key = target)
    ck.retry.<channel>     retryable failures waiting for their backoff
    ck.deliver.<channel>.urgent, ck.retry.<channel>.urgent
                           the same for emergency items: consumed by agents of their own, so they
                           never wait behind the ordinary backlog (pipeline.governance.fastlane)
    ck.dead-letter         exhausted or permanent failures, for people to look at

Channels are `schemas.delivery.Channel` values: portal, wechat, weibo, appfeed. Every name gets the
`CK_KAFKA_TOPIC_PREFIX` setting in front (empty by default).
"""

from collections.abc import Iterable

from kafka import KafkaAdminClient
from kafka.errors import TopicAlreadyExistsError, for_code

from pipeline.config import get_settings
from schemas.delivery import Channel

def _named(base: str) -> str:
    """`CK_KAFKA_TOPIC_PREFIX` lets several kitchens (or test runs) share one cluster."""
    return get_settings().kafka_topic_prefix + base


def items_topic() -> str:
    return _named("ck.items")


def dead_letter_topic() -> str:
    return _named("ck.dead-letter")


def deliver_topic(channel: Channel | str) -> str:
    return _named(f"ck.deliver.{Channel(channel).value}")


def retry_topic(channel: Channel | str) -> str:
    return _named(f"ck.retry.{Channel(channel).value}")


def urgent_deliver_topic(channel: Channel | str) -> str:
    return _named(f"ck.deliver.{Channel(channel).value}.urgent")


def urgent_retry_topic(channel: Channel | str) -> str:
    return _named(f"ck.retry.{Channel(channel).value}.urgent")


def all_topics() -> list[str]:
    return [
        items_topic(),
        *(deliver_topic(c) for c in Channel),
        *(retry_topic(c) for c in Channel),
        *(urgent_deliver_topic(c) for c in Channel),
        *(urgent_retry_topic(c) for c in Channel),
        dead_letter_topic(),
    ]


def ensure_topics(
    bootstrap: str,
    partitions: int | None = None,
    replication: int = 1,
    topics: Iterable[str] | None = None,
    timeout: float = 30,
) -> list[str]:
    """Create the topics that do not exist yet and wait until every one has a leader per partition.

    Idempotent: topics that already exist are left as they are (their partition count included).
    `partitions` defaults to the `CK_KAFKA_PARTITIONS` setting (6); `topics` to `all_topics()`.
    Returns the names it was asked to ensure.
    """
    names = list(topics) if topics is not None else all_topics()
    if partitions is None:
        partitions = get_settings().kafka_partitions
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="ck-topics", bootstrap_timeout_ms=int(timeout * 1000)
    )
    try:
        response = admin.create_topics(
            {name: {"num_partitions": partitions, "replication_factor": replication} for name in names},
            timeout_ms=int(timeout * 1000),
            raise_errors=False,
        )
        for topic in response["topics"]:
            error = for_code(topic["error_code"])
            if topic["error_code"] and error is not TopicAlreadyExistsError:
                raise error(f"{topic['name']}: {topic.get('error_message') or error.__name__}")
        admin.wait_for_topics(names, timeout_ms=int(timeout * 1000))
    finally:
        admin.close()
    return names
