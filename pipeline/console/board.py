"""The distribution board's data: recent items × the targets they went to, each cell the latest
ledger row for that pair; and one delivery's full story for the cell's detail."""

from dataclasses import dataclass

from sqlmodel import Session, func, select

from pipeline.console.labels import CHANNEL_ORDER, STATE, cell_state
from pipeline.items.service import get_revision
from pipeline.store.models import ChannelTarget, Delivery, DeliveryLog, Item

BOARD_ITEMS = 40


@dataclass
class BoardTarget:
    code: str
    name: str
    channel: str


@dataclass
class Cell:
    delivery: int
    state: str  # the ledger state, or "withdrawn" for a finished takedown
    operation: str
    revision: int
    url: str | None
    error: str | None


@dataclass
class BoardRow:
    id: int
    title: str
    status: str
    cells: dict[str, Cell]


@dataclass
class Board:
    """Columns are channels; a cell holds one entry per target of that channel the item went to
    (one site, one account … usually), so four columns show "every channel" at a glance."""

    targets: list[BoardTarget]
    rows: list[BoardRow]

    @property
    def channels(self) -> list[str]:
        return list(dict.fromkeys(t.channel for t in self.targets))

    def entries(self, row: BoardRow, channel: str) -> list[tuple[BoardTarget, Cell]]:
        return [(t, row.cells[t.code]) for t in self.targets if t.channel == channel and t.code in row.cells]

    @property
    def signature(self) -> str:
        """Changes when a row or a column comes or goes (the page then reloads the table)."""
        return ",".join(str(r.id) for r in self.rows) + "|" + ",".join(t.code for t in self.targets)

    def as_json(self) -> dict:
        return {"signature": self.signature,
                "cells": {f"{row.id}:{code}": {"delivery": c.delivery, "state": c.state, "label": STATE[c.state],
                                               "operation": c.operation, "revision": c.revision}
                          for row in self.rows for code, c in row.cells.items()},
                "items": {str(r.id): r.status for r in self.rows}}


def load_board(session: Session, limit: int = BOARD_ITEMS) -> Board:
    items = list(session.exec(
        select(Item).where(Item.id.in_(select(Delivery.item_id).distinct()))
        .order_by(Item.updated_at.desc(), Item.id.desc()).limit(limit)))
    ids = [i.id for i in items]
    latest = select(func.max(Delivery.id)).where(Delivery.item_id.in_(ids)).group_by(Delivery.item_id,
                                                                                       Delivery.target_code)
    rows = list(session.exec(select(Delivery).where(Delivery.id.in_(latest)))) if ids else []
    codes = {d.target_code for d in rows}
    query = select(ChannelTarget.code, ChannelTarget.name).where(ChannelTarget.code.in_(codes))
    names = {code: name for code, name in session.exec(query)} if codes else {}
    channel_of = {d.target_code: d.channel for d in rows}
    targets = sorted((BoardTarget(code, names.get(code, code), channel_of[code]) for code in codes),
                     key=lambda t: (CHANNEL_ORDER.index(t.channel) if t.channel in CHANNEL_ORDER else 9, t.code))
    cells: dict[int, dict[str, Cell]] = {i: {} for i in ids}
    for d in rows:
        cells[d.item_id][d.target_code] = Cell(d.id, cell_state(d.state, d.operation), d.operation, d.revision,
                                               d.url, d.last_error)
    board_rows = [BoardRow(i.id, get_revision(session, i).title, i.status, cells[i.id]) for i in items]
    return Board(targets, board_rows)


@dataclass
class DeliveryStory:
    delivery: Delivery
    item_title: str
    target_name: str
    history: list[DeliveryLog]


def delivery_story(session: Session, delivery: Delivery) -> DeliveryStory:
    item = session.get(Item, delivery.item_id)
    target = session.exec(select(ChannelTarget).where(ChannelTarget.code == delivery.target_code)).first()
    history = list(session.exec(select(DeliveryLog).where(DeliveryLog.delivery_id == delivery.id)
                                .order_by(DeliveryLog.id)))
    return DeliveryStory(delivery, get_revision(session, item).title, target.name if target else delivery.target_code,
                         history)
