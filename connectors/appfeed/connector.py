"""The app feed connector: publish, correct and take down items in a feed on disk, push signed webhooks.

Effects, in order, for one delivery:
1. the feed state is changed under the feed's lock (idempotent: the same revision twice is one change);
2. if the target has a webhook, the delivery is pushed with a deterministic `X-CK-Delivery` id;
3. the acknowledged delivery id is recorded beside the entry (or tombstone).

`verify` answers "did it take effect?" from that record: the entry is listed at this revision (or a
newer one) and, with a webhook, the app acknowledged it. Anything less returns None, and the retry
redoes only the missing part; the app sees the same delivery id again and drops the duplicate.

Revisions never go backwards: an older revision arriving late (a retry overtaken by a correction)
leaves the newer entry in place, and a revision no newer than a takedown is refused, so a stale
retry cannot bring back an item that was taken down (撤稿).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel, Field, ValidationError, model_validator

from connectors.appfeed import jsonfeed, webhook
from connectors.appfeed.store import FeedEntry, FeedMeta, FeedNotFound, FeedState, FeedStore, Tombstone
from connectors.appfeed.urls import feed_url
from connectors.appfeed.webhook import WebhookEvent
from connectors.base import MediaSource, PermanentError, RetryableError, classify_default
from schemas.delivery import Channel, ErrorClass, Receipt, Target
from schemas.item import ItemSnapshot

TAKEDOWN_REASON = "withdrawn"


class AppFeedConfig(BaseModel):
    """Target.config of an app feed target (Target.code is the feed code)."""

    feeds_dir: str
    base_url: str  # the kitchen's public base URL; the feed lives at base_url + /feeds/{code}/feed.json
    title: str
    home_page_url: str | None = None  # defaults to base_url
    description: str | None = None
    hub_url: str | None = None  # WebSub hub announced in the feeds
    webhook_url: str | None = None
    webhook_secret: str | None = None
    page_size: int = Field(default=20, ge=1, le=500)
    max_entries: int = Field(default=1000, ge=1)  # older entries age out of the feed (no tombstone)
    removed_days: int = Field(default=30, ge=0)  # how long takedowns stay in `_ck_removed`

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> "AppFeedConfig":
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("webhook_url is set but webhook_secret is not")
        return self

    def meta(self) -> FeedMeta:
        return FeedMeta(
            title=self.title,
            base_url=self.base_url,
            home_page_url=self.home_page_url or self.base_url,
            description=self.description,
            hub_url=self.hub_url,
            page_size=self.page_size,
        )


class AppFeedConnector:
    """`connectors.base.Connector` for channel "appfeed".

    `media` is accepted for the common connector shape; feeds link media by absolute URL, so no
    bytes are read. `http` lets the caller share a client; `clock` stamps takedowns.
    """

    channel = Channel.appfeed.value

    def __init__(
        self,
        media: MediaSource | None = None,
        *,
        http: httpx.Client | None = None,
        webhook_timeout: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(jsonfeed.CST),
    ):
        self.media = media
        self._http = http or httpx.Client(timeout=webhook_timeout)
        self._clock = clock

    def close(self) -> None:
        self._http.close()

    def render(self, item: ItemSnapshot, target: Target) -> dict[str, Any]:
        """The JSON Feed item this target's feed will list for `item`."""
        return jsonfeed.render_item(item, config(target).base_url)

    def publish(self, item: ItemSnapshot, target: Target) -> Receipt:
        return self._list(item, target, WebhookEvent.publish)

    def correct(self, item: ItemSnapshot, target: Target, previous: Receipt) -> Receipt:
        return self._list(item, target, WebhookEvent.correct)

    def take_down(
        self, item: ItemSnapshot, target: Target, previous: Receipt, *, reason: str = TAKEDOWN_REASON
    ) -> Receipt:
        cfg = config(target)
        store = FeedStore(cfg.feeds_dir)
        delivery = webhook.delivery_id(target.code, item.id, item.revision, WebhookEvent.takedown)
        with _writing(), store.edit(target.code, cfg.meta()) as state:
            tombstone = state.tombstone(item.id)
            if tombstone is None:
                listed = state.entry(item.id)
                tombstone = Tombstone(
                    item_id=item.id,
                    entry_id=jsonfeed.entry_id(item.id),
                    revision=max(item.revision, listed.revision if listed else 0),
                    removed_at=self._clock(),
                    reason=reason,
                )
                state.remove(tombstone)
            state.forget_removed_before(self._clock() - timedelta(days=cfg.removed_days))
        removal = jsonfeed.removed_record(tombstone)
        if cfg.webhook_url and tombstone.pushed != delivery:
            self._push(cfg, target, WebhookEvent.takedown, removal, delivery)
            with _writing(), store.edit(target.code, cfg.meta()) as state:
                if (current := state.tombstone(item.id)) is not None:
                    current.pushed = delivery
        return Receipt(
            external_id=external_id(target, item),
            url=feed_url(cfg.base_url, target.code),
            detail={"removed": removal, "delivery": delivery if cfg.webhook_url else None},
        )

    def verify(self, item: ItemSnapshot, target: Target, previous: Receipt | None) -> Receipt | None:
        cfg = config(target)
        try:
            state = FeedStore(cfg.feeds_dir).read(target.code)
        except FeedNotFound:
            return None
        listed = state.entry(item.id)
        if listed is None or listed.revision < item.revision:
            return None
        if listed.revision == item.revision and cfg.webhook_url and listed.pushed is None:
            return None
        return self._receipt(cfg, target, item, state, listed)

    def classify(self, error: Exception) -> ErrorClass:
        return classify_default(error)

    def _list(self, item: ItemSnapshot, target: Target, event: WebhookEvent) -> Receipt:
        cfg = config(target)
        store = FeedStore(cfg.feeds_dir)
        rendered = jsonfeed.render_item(item, cfg.base_url)
        delivery = webhook.delivery_id(target.code, item.id, item.revision, event)
        with _writing(), store.edit(target.code, cfg.meta()) as state:
            tombstone = state.tombstone(item.id)
            if tombstone is not None and item.revision <= tombstone.revision:
                raise PermanentError(
                    f"item {item.id} revision {item.revision} was taken down from feed {target.code} "
                    f"(revision {tombstone.revision}); only a newer revision may be published again",
                    code="taken_down",
                )
            listed = state.entry(item.id)
            if listed is not None and listed.revision > item.revision:
                return self._receipt(cfg, target, item, state, listed)
            if listed is None or listed.revision < item.revision or listed.entry != rendered:
                listed = FeedEntry(
                    item_id=item.id,
                    revision=item.revision,
                    entry=rendered,
                    published=jsonfeed.as_cst(item.published_at),
                    modified=jsonfeed.as_cst(item.updated_at),
                )
                state.put(listed, cfg.max_entries)
            state.forget_removed_before(self._clock() - timedelta(days=cfg.removed_days))
        if cfg.webhook_url and listed.pushed != delivery:
            self._push(cfg, target, event, rendered, delivery)
            with _writing(), store.edit(target.code, cfg.meta()) as state:
                current = state.entry(item.id)
                if current is not None and current.revision == item.revision:
                    current.pushed = delivery
                listed = current or listed
        return self._receipt(cfg, target, item, state, listed, delivery if cfg.webhook_url else None)

    def _push(self, cfg: AppFeedConfig, target: Target, event: WebhookEvent, item: dict, delivery: str) -> None:
        webhook.push(
            self._http,
            cfg.webhook_url,
            secret=cfg.webhook_secret,
            event=event,
            feed=target.code,
            item=item,
            delivery=delivery,
        )

    @staticmethod
    def _receipt(
        cfg: AppFeedConfig,
        target: Target,
        item: ItemSnapshot,
        state: FeedState,
        listed: FeedEntry,
        delivery: str | None = None,
    ) -> Receipt:
        page = state.page_of(item.id)
        return Receipt(
            external_id=external_id(target, item),
            url=feed_url(cfg.base_url, target.code, page=page or 1),
            detail={
                "entry_id": listed.entry["id"],
                "revision": listed.revision,
                "page": page,  # None: aged out of the feed (older than its newest max_entries)
                "delivery": delivery,
            },
        )


def config(target: Target) -> AppFeedConfig:
    """Target.config validated; a bad config is a permanent error (a human must fix the target)."""
    try:
        return AppFeedConfig.model_validate(target.config)
    except ValidationError as exc:
        raise PermanentError(f"appfeed target {target.code}: bad config: {exc}", code="config") from exc


def external_id(target: Target, item: ItemSnapshot) -> str:
    return f"{target.code}:{item.id}"


@contextmanager
def _writing() -> Iterator[None]:
    """A failed write leaves the old state in place, so disk trouble is safe to retry; a feed code
    that can never be a directory name is permanent."""
    try:
        yield
    except FeedNotFound as exc:
        raise PermanentError(f"appfeed: {exc}", code="feed_code") from exc
    except OSError as exc:
        raise RetryableError(f"appfeed: cannot write feed state: {exc!r}", code="disk") from exc
