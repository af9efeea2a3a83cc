"""Feed state on disk: one JSON document per feed, replaced atomically on every change.

Layout under `feeds_dir`:

    {code}/state.json   meta, current entries (newest first) and tombstones of removed items
    {code}/state.lock   taken (flock) by writers for the read-modify-write of one change

Readers (the feed server) never lock: `os.replace` swaps the whole file, so they see either the
previous state or the next one. Writers of one feed are serialised by the lock, across threads and
processes, so a retried delivery racing a fresh one cannot lose an update.

Entries hold the rendered JSON Feed item, so the server renders pages without the item store.
`pushed` records the webhook delivery id the app acknowledged for the current revision; it is
bookkeeping, and changing it does not move the feed's `updated_at` (its Last-Modified).
"""

import fcntl
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from connectors.files import write_atomic

FEED_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
STATE_FILE = "state.json"
LOCK_FILE = "state.lock"


class FeedNotFound(LookupError):
    """No feed has been written under this code (or the code is not a valid feed code)."""


class FeedMeta(BaseModel):
    """What the feed says about itself; refreshed from Target.config on every write."""

    title: str
    base_url: str  # the kitchen's public base URL; the feed lives at base_url + /feeds/{code}/…
    home_page_url: str
    description: str | None = None
    hub_url: str | None = None
    page_size: int = Field(default=20, ge=1, le=500)


class FeedEntry(BaseModel):
    item_id: int
    revision: int
    entry: dict[str, Any]  # the JSON Feed 1.1 item, as rendered by `jsonfeed.render_item`
    published: AwareDatetime
    modified: AwareDatetime
    pushed: str | None = None  # webhook delivery id acknowledged for this revision


class Tombstone(BaseModel):
    item_id: int
    entry_id: str  # the JSON Feed `id` apps know the item by
    revision: int  # the highest revision taken down; older publishes must not bring it back
    removed_at: AwareDatetime
    reason: str
    pushed: str | None = None


PUBLISHED_EXCLUDE = {"updated_at": True, "entries": {"__all__": {"pushed"}}, "removed": {"__all__": {"pushed"}}}


class FeedState(BaseModel):
    """One feed's current entries and tombstones. Pure data; `FeedStore` does the I/O."""

    code: str
    meta: FeedMeta
    updated_at: AwareDatetime
    entries: list[FeedEntry] = Field(default_factory=list)
    removed: list[Tombstone] = Field(default_factory=list)

    def entry(self, item_id: int) -> FeedEntry | None:
        return next((e for e in self.entries if e.item_id == item_id), None)

    def tombstone(self, item_id: int) -> Tombstone | None:
        return next((t for t in self.removed if t.item_id == item_id), None)

    def put(self, entry: FeedEntry, max_entries: int) -> None:
        """Add or replace an entry (lifting any tombstone), keep newest first, keep at most `max_entries`."""
        self.entries = [e for e in self.entries if e.item_id != entry.item_id] + [entry]
        self.entries.sort(key=lambda e: (e.published, e.item_id), reverse=True)
        del self.entries[max_entries:]
        self.removed = [t for t in self.removed if t.item_id != entry.item_id]

    def remove(self, tombstone: Tombstone) -> None:
        """Drop the entry and record why, so apps polling the feed learn what to delete."""
        self.entries = [e for e in self.entries if e.item_id != tombstone.item_id]
        self.removed = [t for t in self.removed if t.item_id != tombstone.item_id] + [tombstone]
        self.removed.sort(key=lambda t: (t.removed_at, t.item_id), reverse=True)

    def forget_removed_before(self, cutoff: datetime) -> None:
        self.removed = [t for t in self.removed if t.removed_at >= cutoff]

    def page_count(self) -> int:
        return max(1, -(-len(self.entries) // self.meta.page_size))

    def page(self, number: int) -> list[FeedEntry]:
        size = self.meta.page_size
        return self.entries[(number - 1) * size : number * size]

    def page_of(self, item_id: int) -> int | None:
        for index, e in enumerate(self.entries):
            if e.item_id == item_id:
                return index // self.meta.page_size + 1
        return None

    def published_json(self) -> str:
        """Everything readers can see, as compact JSON: a change here is a change of the feed (moves
        `updated_at`)."""
        return self.model_dump_json(exclude=PUBLISHED_EXCLUDE)


def check_code(code: str) -> str:
    """Feed codes become directory names and URL segments: letters, digits, `_ . -` only."""
    if not FEED_CODE.fullmatch(code):
        raise FeedNotFound(f"invalid feed code {code!r}")
    return code


class FeedStore:
    def __init__(self, feeds_dir: str | Path):
        self.feeds_dir = Path(feeds_dir)

    def state_path(self, code: str) -> Path:
        return self.feeds_dir / check_code(code) / STATE_FILE

    def read(self, code: str) -> FeedState:
        try:
            return FeedState.model_validate_json(self.state_path(code).read_bytes())
        except FileNotFoundError:
            raise FeedNotFound(code) from None

    @contextmanager
    def edit(self, code: str, meta: FeedMeta) -> Iterator[FeedState]:
        """Lock the feed, yield its state (created empty if new) with `meta` applied, write it back if it changed."""
        path = self.state_path(code)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.parent / LOCK_FILE, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = self.read(code)
            except FeedNotFound:
                state = None
            before = state.model_dump_json() if state else None
            visible_before = state.published_json() if state else None
            if state is None:
                state = FeedState(code=code, meta=meta, updated_at=datetime.now(UTC))
            state.meta = meta
            yield state
            if state.model_dump_json() == before:
                return
            if state.published_json() != visible_before:
                state.updated_at = datetime.now(UTC)
            write_atomic(path, state.model_dump_json(indent=1).encode())
