"""The faust application and its agents. Agents are short loops; the work lives in
`pipeline.distribution` (plain functions, run in threads because they use the database and
blocking platform clients).

Known faust traps handled here (see deploy/README and ../shared/standards/KAFKA.md):
- faust acks a message even when the agent raises, so every agent catches per-event errors,
  and forwards the message to retry or dead letter, awaiting the send;
- `concurrency=1` everywhere; scale by partitions and processes; a channel agent takes its messages
  in batches and runs the deliveries of a batch side by side, acking the batch when all are done;
- nothing blocking on the event loop: database and connectors run in threads.
"""

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import faust

from pipeline.clock import now
from pipeline.config import Settings
from pipeline.distribution.channels import build_connectors, runtime_target
from pipeline.distribution.execute import deliver_many
from pipeline.distribution.relay import run_relay
from pipeline.distribution.routing import plan_deliveries
from pipeline.kafka.producer import make_producer
from pipeline.governance import fastlane, rescan
from pipeline.kafka.topics import (
    dead_letter_topic,
    deliver_topic,
    items_topic,
    retry_topic,
    urgent_deliver_topic,
    urgent_retry_topic,
)
from pipeline.observability import metrics
from pipeline.observability.health import HEARTBEAT
from pipeline.observability.logs import log_context, redact
from pipeline.store.db import session_scope
from pipeline.stream.sweeper import overdue
from schemas.delivery import Channel
from schemas.events import DeadLetter, DeliverMessage, EventDecodeError, ItemEvent

log = logging.getLogger("ck.stream")
ROUTER = "router"
RELAY = "relay"
ALL_ROLES = [ROUTER, RELAY, *(c.value for c in Channel)]
UNEXPECTED_RETRY_SECONDS = 5.0
DELIVER_BATCH_WITHIN = 0.01  # seconds a partial batch waits for more before it starts


def _plan_many(events: list[ItemEvent]) -> list[tuple[list[DeliverMessage], set[int]] | Exception]:
    """The deliveries of each event (and which items take the fast lane), in one transaction, one savepoint each: an event that fails gets its
    error (and goes to dead letter), the others are planned. If the commit fails, all get it."""
    results: list = []
    try:
        with session_scope() as session:
            for event in events:
                try:
                    with session.begin_nested():
                        messages = plan_deliveries(session, event)
                        results.append((messages, fastlane.urgent_items(session, {event.item_id} if messages
                                                                        else set())))
                except Exception as exc:  # noqa: BLE001 - reported per event
                    results.append(exc)
    except Exception as exc:
        return [exc] * len(events)
    return results


def _overdue(grace: float, stuck: float) -> tuple[list[DeliverMessage], set[int]]:
    messages = overdue(grace, stuck)
    with session_scope() as session:
        return messages, fastlane.urgent_items(session, {m.item_id for m in messages})


def create_app(settings: Settings, roles: list[str], app_id: str = "central-kitchen") -> faust.App:
    """A faust app running the given roles: `router`, `relay` and/or channel names."""
    bootstrap = settings.kafka_bootstrap
    if not bootstrap:
        raise ValueError("CK_KAFKA_BOOTSTRAP is not set")
    app = faust.App(
        app_id,
        broker=";".join(f"kafka://{b}" for b in bootstrap.split(",")),
        store="memory://",
        value_serializer="raw",
        key_serializer="raw",
        topic_partitions=settings.kafka_partitions,
        topic_allow_declare=False,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        web_enabled=False,
        worker_redirect_stdouts=False,
    )

    def topic(name: str):
        return app.topic(name, key_type=bytes, value_type=bytes, internal=False)

    dead_letters = topic(dead_letter_topic())
    deliver_topics = {c: topic(deliver_topic(c)) for c in Channel}
    urgent_topics = {c: topic(urgent_deliver_topic(c)) for c in Channel}  # the fast lane (emergency items)

    async def send(target_topic, key: bytes | None, value: bytes) -> None:
        fut = await target_topic.send(key=key, value=value)
        await fut  # wait for the broker's ack before the consumed message is acked

    async def dead_letter(source: str, key: bytes | None, payload: bytes, reason: str,
                          delivery_id: int | None = None) -> None:
        letter = DeadLetter.from_raw(source, payload or b"", reason, key=key, delivery_id=delivery_id)
        log.warning("dead letter from %s: %s", source, reason)
        metrics.record_dead_letter(source.removeprefix(settings.kafka_topic_prefix))
        await send(dead_letters, key, letter.to_bytes())

    async def emit(messages: list[DeliverMessage], urgent: set[int] = frozenset()) -> None:
        """All deliveries of one event leave together (分发同时); emergency items on the fast lane."""
        futures = [await (urgent_topics if m.item_id in urgent else deliver_topics)[m.channel].send(
            key=m.target.encode(), value=m.to_bytes()) for m in messages]
        await asyncio.gather(*futures)
        metrics.record_routed(m.channel.value for m in messages)

    @app.timer(interval=1.0)
    async def heartbeat():
        """The worker's liveness (/healthz): a blocked or dead event loop stops ticking."""
        HEARTBEAT.beat()

    if ROUTER in roles:
        items = items_topic()

        @app.agent(topic(items), concurrency=1, name="router")
        async def route(stream):
            """Events in batches: the ledger rows of a whole batch are written in one transaction
            (one savepoint per event), then every delivery of the batch leaves together."""
            async for events in stream.take_events(settings.deliver_batch, within=DELIVER_BATCH_WITHIN):
                decoded = []
                for event in events:
                    try:
                        decoded.append((event, ItemEvent.from_bytes(event.value)))
                    except EventDecodeError as exc:
                        await _dead_letter_safely(items, event.key, event.value, str(exc))
                try:
                    planned = await asyncio.to_thread(_plan_many, [e for _, e in decoded])
                except Exception as exc:  # e.g. the database is away: every event of the batch
                    log.exception("routing a batch failed")
                    planned = [exc] * len(decoded)
                for (event, item_event), result in zip(decoded, planned, strict=True):
                    try:
                        if isinstance(result, Exception):
                            raise result
                        await emit(*result)
                    except Exception as exc:
                        log.error("routing %s failed: %s: %s", item_event.event_id, type(exc).__name__, exc)
                        await _dead_letter_safely(items, event.key, event.value,
                                                  f"routing failed: {type(exc).__name__}: {exc}")

        async def _dead_letter_safely(source: str, key, raw: bytes, reason: str) -> None:
            try:
                await dead_letter(source, key, raw, reason)
            except Exception:  # never let one message stop the agent
                log.exception("dead letter from %s not sent", source)

        @app.timer(interval=max(1.0, settings.retry_base_seconds))
        async def sweep():
            try:
                messages, urgent = await asyncio.to_thread(_overdue, 10.0 + settings.remote_poll_seconds, 300.0)
                if messages:
                    log.info("sweeper re-sends %d overdue deliveries", len(messages))
                    await emit(messages, urgent)
            except Exception:
                log.exception("sweep failed")

        @app.timer(interval=settings.rescan_check_seconds)
        async def rescan_when_due():
            """Published items are scanned again when the dictionary changes, and daily."""
            try:
                result = await asyncio.to_thread(rescan.run_if_due, settings)
                if result:
                    log.info("rescan (%s): %d items, %d new findings", result.reason, result.scanned,
                             result.new_findings)
            except Exception:
                log.exception("rescan failed")

    channels = [Channel(r) for r in roles if r in {c.value for c in Channel}]
    if channels:
        connectors = build_connectors(settings)

        def build_target(row, item):
            redact.remember_config(row.config)  # credentials never reach a log line
            target = runtime_target(row, item, settings)
            redact.remember_config(target.config)
            return target

        for channel in channels:
            _channel_agents(app, settings, channel, connectors[channel], build_target, topic, send, dead_letter,
                            deliver_topics[channel])
            _channel_agents(app, settings, channel, connectors[channel], build_target, topic, send, dead_letter,
                            urgent_topics[channel], urgent=True)

    if RELAY in roles:
        stop = threading.Event()

        @app.task
        async def relay():
            producer = await asyncio.to_thread(make_producer, bootstrap)
            try:
                await asyncio.to_thread(run_relay, producer, settings, stop)
            finally:
                await asyncio.to_thread(producer.close, 5)

        @app.on_before_shutdown.connect
        async def _stop_relay(app, **kwargs):
            stop.set()

    return app


def _channel_agents(app, settings, channel, connector, build_target, topic, send, dead_letter, deliver_to,
                    urgent=False):
    """A channel's deliver and retry agents; `urgent`: the fast lane's pair, with topics of its own."""
    source = urgent_deliver_topic(channel) if urgent else deliver_topic(channel)
    retry_name = urgent_retry_topic(channel) if urgent else retry_topic(channel)
    lane = "-urgent" if urgent else ""
    retry_to = topic(retry_name)
    waiting: set[asyncio.Task] = set()

    def logged(msg: DeliverMessage):
        """Every log line of this delivery names it (JSON fields), in whichever thread writes it."""
        return log_context(channel=channel.value, delivery_id=msg.delivery_id, item_id=msg.item_id,
                           revision=msg.revision, target=msg.target, operation=msg.operation.value)

    batch = settings.deliver_batch  # CK_DELIVER_BATCH
    pool = ThreadPoolExecutor(batch, thread_name_prefix=f"deliver-{channel.value}{lane}")

    def deliver_round(messages: list[DeliverMessage]) -> list:
        """In a thread: the batch's ledger work in a few transactions, its platform calls side by side."""
        results = deliver_many(messages, connector, build_target, settings, pool=pool, context=logged)
        for msg, result in zip(messages, results, strict=True):
            if not isinstance(result, Exception):
                with logged(msg):
                    log.info("delivery %s: %s%s", result.delivery_id, result.state,
                             f" ({result.skipped})" if result.skipped else "")
        return results

    async def handle(event, msg: DeliverMessage, outcome) -> None:
        raw, key = event.value, event.key
        if isinstance(outcome, Exception):  # e.g. the database is away: try the same message again later
            with logged(msg):
                log.error("delivery %s failed unexpectedly: %s: %s", msg.delivery_id, type(outcome).__name__,
                          outcome)
            metrics.record_outcome(channel.value, "error")
            if msg.attempt >= settings.max_attempts:
                await dead_letter(source, key, raw, f"unexpected error: {type(outcome).__name__}: {outcome}",
                                  delivery_id=msg.delivery_id)
                return
            later = msg.model_copy(update={"attempt": msg.attempt + 1,
                                           "not_before": now() + timedelta(seconds=UNEXPECTED_RETRY_SECONDS)})
            await send(retry_to, key, later.to_bytes())
            return
        metrics.record_outcome(channel.value, outcome.state, skipped=bool(outcome.skipped),
                               retry=outcome.retry_at is not None and outcome.state != "remote_pending",
                               announced_at=outcome.announced_at, error_class=outcome.error_class,
                               error_code=outcome.error_code)
        if outcome.retry_at:
            later = msg.model_copy(update={"attempt": msg.attempt + 1, "not_before": outcome.retry_at})
            await send(retry_to, key, later.to_bytes())
        if outcome.dead_letter:
            await dead_letter(source, key, raw, outcome.dead_letter, delivery_id=msg.delivery_id)

    async def run_round(pairs: list) -> None:
        try:
            outcomes = await asyncio.to_thread(deliver_round, [msg for _, msg in pairs])
        except Exception as exc:  # deliver_many reports errors per message; this is a bug: retry them all
            log.exception("agent %s: a round failed", channel.value)
            outcomes = [exc] * len(pairs)
        for (event, msg), outcome in zip(pairs, outcomes, strict=True):
            try:
                await handle(event, msg, outcome)
            except Exception:  # never let one message stop the agent
                log.exception("agent %s: message dropped to the sweeper", channel.value)

    @app.agent(deliver_to, concurrency=1, name=f"deliver-{channel.value}{lane}")
    async def deliver_agent(stream):
        """Up to `batch` deliveries at once. A batch runs in rounds holding at most one message per
        item (an item's publish, correct and takedown stay in order); the batch is acked (and its
        offsets committed) only after every delivery in it has finished, so a worker killed
        mid-batch gets the batch again."""
        async for events in stream.take_events(batch, within=DELIVER_BATCH_WITHIN):
            rounds: list[list] = []
            depth: dict[int, int] = {}  # item → how many of its messages are in rounds already
            for event in events:
                try:
                    msg = DeliverMessage.from_bytes(event.value)
                except EventDecodeError as exc:
                    try:
                        await dead_letter(source, event.key, event.value, str(exc))
                    except Exception:  # never let one message stop the agent
                        log.exception("agent %s: dead letter not sent", channel.value)
                    continue
                n = depth.get(msg.item_id, 0)
                depth[msg.item_id] = n + 1
                if n == len(rounds):
                    rounds.append([])
                rounds[n].append((event, msg))
            for pairs in rounds:
                await run_round(pairs)

    async def forward_when_due(key: bytes | None, raw: bytes, msg: DeliverMessage) -> None:
        delay = (msg.not_before - now()).total_seconds() if msg.not_before else 0
        if delay > 0:
            await asyncio.sleep(delay)
        await send(deliver_to, key, raw)

    @app.agent(retry_to, concurrency=1, name=f"retry-{channel.value}{lane}")
    async def retry_agent(stream):
        """Waits without blocking the stream: each retry sleeps in its own task. A retry lost with
        its worker is found again by the router's ledger sweeper."""
        async for event in stream.events():
            raw, key = event.value, event.key
            try:
                msg = DeliverMessage.from_bytes(raw)
            except EventDecodeError as exc:
                await dead_letter(retry_name, key, raw, str(exc))
                continue
            task = asyncio.ensure_future(forward_when_due(key, raw, msg))
            waiting.add(task)
            task.add_done_callback(waiting.discard)
