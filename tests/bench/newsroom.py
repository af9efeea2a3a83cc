"""The bench's newsroom: a city and its districts, each with its own portal site, WeChat and Weibo
accounts and app feed, and N items written, submitted and approved at the first two levels, waiting
for the signer. Signing off is what the bench times."""

import shutil
import sqlite3
from pathlib import Path

from sqlmodel import select

from pipeline.config import get_settings
from pipeline.items.service import create_item
from pipeline.org.units import add_unit
from pipeline.org.users import add_user, get_user
from pipeline.registry.targets import add_target
from pipeline.review import workflow
from pipeline.store.db import engine_for, session_scope
from pipeline.store.migrate import upgrade
from pipeline.store.models import ChannelTarget, Item
from schemas.api import ItemCreate, ReviewCreate
from tests.factories import policy_body

UNITS = {"cq": "重庆市人民政府办公厅", "yuzhong": "渝中区人民政府", "jiangbei": "江北区人民政府",
         "shapingba": "沙坪坝区人民政府", "jiulongpo": "九龙坡区人民政府", "nanan": "南岸区人民政府"}
COLUMNS = {"xxgk": "政府信息公开", "news": "要闻动态"}
APPROVE = ReviewCreate(decision="approve")


def unit_codes(count: int) -> list[str]:
    return list(UNITS)[:count]


def seed(units: list[str]) -> None:
    with session_scope() as session:
        for i, code in enumerate(units):
            add_unit(session, code, UNITS[code], parent=None if i == 0 else units[0], org_code=f"00{i}282882")
            for role, name in (("editor", "editor"), ("reviewer", "r1"), ("reviewer", "r2"), ("signer", "signer")):
                add_user(session, f"{name}-{code}", role, code)
            add_target(session, f"{code}-portal", "portal", code, UNITS[code],
                       {"columns": COLUMNS, "default_column": "news", "site_id_code": f"500000000{i}"})
            for channel in ("wechat", "weibo", "appfeed"):  # pointed at the emulators per scenario
                add_target(session, f"{code}-{channel}", channel, code, f"{UNITS[code]} {channel}", {})


def prepare(count: int, units: list[str]) -> None:
    """`count` items, round robin over the units, each approved at every level but the last."""
    settings = get_settings()
    for i in range(count):
        unit = units[i % len(units)]
        with session_scope() as session:
            editor = get_user(session, f"editor-{unit}")
            data = ItemCreate(**policy_body(title=f"关于做好第{i + 1}批民生实事项目实施工作的通知", kind="notice",
                                            doc_no=None))
            item = create_item(session, editor, data, settings)
            workflow.submit(session, editor, item.id, settings)
            for who in ("r1", "r2"):
                workflow.review(session, get_user(session, f"{who}-{unit}"), item.id, APPROVE, settings)


def waiting_items() -> list[tuple[int, str]]:
    """(item id, unit code) of every item waiting for sign-off, oldest first."""
    from pipeline.store.models import Unit

    with session_scope() as session:
        rows = session.exec(select(Item.id, Unit.code).join(Unit, Unit.id == Item.unit_id)
                            .where(Item.status == "in_review").order_by(Item.id))
        return [(item_id, code) for item_id, code in rows]


def sign_off(item_id: int, unit: str) -> None:
    with session_scope() as session:
        workflow.review(session, get_user(session, f"signer-{unit}"), item_id, APPROVE, get_settings())


def point_targets(platforms: dict) -> None:
    """Give the WeChat, Weibo and app-feed targets the configs of this scenario's emulators."""
    with session_scope() as session:
        for target in session.exec(select(ChannelTarget).where(ChannelTarget.channel != "portal")):
            unit = target.code.rsplit("-", 1)[0]
            target.config = platforms["targets"][unit][target.channel]
            session.add(target)


def build_template(path: Path, count: int, units: list[str]) -> None:
    """A migrated, seeded SQLite file with `count` items waiting for sign-off (scenarios copy it)."""
    url = f"sqlite:///{path}"
    upgrade(url)
    seed(units)
    prepare(count, units)
    engine_for(url).dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def copy_template(template: Path, to: Path) -> None:
    shutil.copyfile(template, to)
