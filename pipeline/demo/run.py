"""The demo's steps as plain functions: seed, write and review, distribute, report."""

import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import select

from connectors.sandbox.platforms import Sandbox
from pipeline.config import Settings
from pipeline.console.passwords import set_password
from pipeline.demo.content import ITEMS, PASSWORD, PEOPLE, SITE_COLUMNS, SITE_NAMES, UNITS, DemoItem, cover_image
from pipeline.items.service import create_item
from pipeline.media.upload import store_image
from pipeline.org.units import add_unit
from pipeline.org.users import add_user, get_user
from pipeline.registry.targets import add_target
from pipeline.review import workflow
from pipeline.store.db import session_scope
from pipeline.store.media_files import MediaFiles
from pipeline.store.models import Delivery, Item
from schemas.api import ItemCreate, ReviewCreate

SETTLED = {"succeeded", "failed", "dead"}
CHANNEL_ORDER = ["portal", "wechat", "weibo", "appfeed"]


def seed(sandbox: Sandbox) -> dict[str, str]:
    """Units, people (returns their API tokens; each signs in to the console with `PASSWORD`) and every
    unit's site and accounts, plus the city's app feed."""
    tokens = {}
    with session_scope() as session:
        for code, name, parent, org_code in UNITS:
            add_unit(session, code, name, parent, org_code)
        for name, role, unit, display in PEOPLE:
            user, tokens[name] = add_user(session, name, role, unit, display)
            set_password(session, None, user, PASSWORD)
        for code, *_ in UNITS:
            add_target(session, f"{code}-portal", "portal", code, SITE_NAMES[code],
                       {"columns": SITE_COLUMNS, "default_column": "news", "site_id_code": f"50000{len(code):05d}"})
            add_target(session, f"{code}-wechat", "wechat", code, f"{SITE_NAMES[code][:-1]}微信",
                       sandbox.wechat_config(code))
            add_target(session, f"{code}-weibo", "weibo", code, f"{SITE_NAMES[code][:-1]}微博", sandbox.weibo_config(code))
        add_target(session, "cq-app", "appfeed", "cq", "重庆市政府App", sandbox.appfeed_config("app"))
        add_target(session, "yuzhong-app", "appfeed", "yuzhong", "渝中区政务App 资讯流", {})
        add_target(session, "jiangbei-app", "appfeed", "jiangbei", "江北区政务App 资讯流", {})
    return tokens


def write_and_review(settings: Settings, progress=None) -> dict[str, int]:
    """Each demo item written by its unit's editor and taken through 初审, 审核 and 审发 by three others."""
    ids: dict[str, int] = {}
    for demo in ITEMS:
        ids[demo.key] = _one_item(settings, demo, ids)
        if progress:
            progress(demo)
    return ids


def _one_item(settings: Settings, demo: DemoItem, ids: dict[str, int]) -> int:
    fields = dict(demo.fields)
    with session_scope() as session:
        editor = get_user(session, demo.editor)
        if demo.cover:
            media = store_image(session, MediaFiles(settings.media_dir), editor, cover_image(), "cover.jpg")
            fields["cover"] = media.sha256
            fields["body"] += f'<p><img src="/media/{media.sha256}" alt="社区食堂"></p>'
        if demo.interprets:
            fields["interprets"] = ids[demo.interprets]
        item = create_item(session, editor, ItemCreate(**fields), settings)
        workflow.submit(session, editor, item.id, settings)
    for reviewer in demo.reviewers:
        with session_scope() as session:
            workflow.review(session, get_user(session, reviewer), item.id,
                            ReviewCreate(decision="approve", comment="同意"), settings)
    return item.id


def start_worker(env: dict[str, str], log_file: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli.main", "worker", "--loglevel", "info"],
                            env=env, stdout=log_file.open("wb"), stderr=subprocess.STDOUT)


def wait_settled(item_ids: list[int], timeout: float, tick=None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope() as session:
            rows = list(session.exec(select(Delivery).where(Delivery.item_id.in_(item_ids))))
        settled = sum(d.state in SETTLED for d in rows)
        if tick:
            tick(settled, len(rows))
        if rows and settled == len(rows):
            return True
        time.sleep(0.3)
    return False


def results(item_ids: list[int]) -> dict:
    """The machine-readable outcome: `{"items": [{id, title, status, deliveries: [...]}]}`."""
    from pipeline.items.service import get_revision

    out = []
    with session_scope() as session:
        for item_id in item_ids:
            item = session.get(Item, item_id)
            rows = session.exec(select(Delivery).where(Delivery.item_id == item_id).order_by(Delivery.id))
            out.append({
                "id": item.id, "title": get_revision(session, item).title, "status": item.status,
                "deliveries": sorted(
                    ({"channel": d.channel, "target": d.target_code, "operation": d.operation, "state": d.state,
                      "external_id": d.external_id, "url": d.url} for d in rows),
                    key=lambda d: (CHANNEL_ORDER.index(d["channel"]), d["target"])),
            })
    return {"items": out}
