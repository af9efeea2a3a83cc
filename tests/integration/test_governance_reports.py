"""Freshness, deadlines, the quarterly report and rescans through the API and the CLI, on the real
database. Past publications are ledger rows with the times they happened (a simulated week)."""

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from pipeline.cli.main import app as ck_app
from pipeline.clock import NEWSROOM_TZ, now
from pipeline.config import get_settings
from pipeline.distribution.relay import mark_distributed
from pipeline.governance import rescan
from pipeline.items.service import create_item
from pipeline.org.users import get_user
from pipeline.registry.targets import add_target
from pipeline.review import workflow
from pipeline.store.db import session_scope
from pipeline.store.models import Delivery, Item, OutboxEntry
from schemas.api import ItemCreate, ReviewCreate
from tests.factories import policy_body

MONDAY = datetime(2026, 11, 9, tzinfo=NEWSROOM_TZ)
SUNDAY_NIGHT = MONDAY + timedelta(days=6, hours=23)


@pytest.fixture
def channels(room):
    with session_scope() as session:
        add_target(session, "cq-portal", "portal", "cq", "重庆市人民政府网",
                   {"columns": {"xxgk": "政府信息公开", "news": "要闻动态"}, "default_column": "news",
                    "column_periods": {"xxgk": 30}})
        add_target(session, "cq-wechat", "wechat", "cq", "重庆发布", {"appid": "wxcq", "secret": "s"})
        add_target(session, "yuzhong-wechat", "wechat", "yuzhong", "渝中发布", {"appid": "wxyz", "secret": "s"})
    return room


def published(schedule: dict[str, list[datetime]]) -> None:
    """Ledger rows for publications that happened at these times (one news item each)."""
    settings = get_settings()
    with session_scope() as session:
        editor = get_user(session, "editor")
        for code, times in schedule.items():
            for at in times:
                item = create_item(session, editor, ItemCreate(**policy_body(
                    title=f"{code} {at:%m月%d日%H时} 要闻", kind="news", doc_no=None, written_date=None,
                    columns=["news"])), settings)
                channel = "portal" if code.endswith("portal") else "wechat"
                session.add(Delivery(item_id=item.id, revision=1, channel=channel, target_code=code,
                                     operation="publish", state="succeeded", succeeded_at=at, created_at=at,
                                     updated_at=at, event_id="00000000-0000-4000-8000-000000000000"))


def week(*day_hours: tuple[int, int]) -> list[datetime]:
    return [MONDAY + timedelta(days=d, hours=h) for d, h in day_hours]


def sign_off(**overrides) -> int:
    settings = get_settings()
    with session_scope() as session:
        item = create_item(session, get_user(session, "editor"), ItemCreate(**policy_body(**overrides)), settings)
        workflow.submit(session, get_user(session, "editor"), item.id, settings)
    for who in ("reviewer1", "reviewer2", "signer"):
        with session_scope() as session:
            workflow.review(session, get_user(session, who), item.id, ReviewCreate(decision="approve"), settings)
    return item.id


def relayed(item_id: int) -> None:
    """What the relay does once the event is on Kafka: the item is published."""
    with session_scope() as session:
        for entry in session.exec(select(OutboxEntry).where(OutboxEntry.item_id == item_id)):
            mark_distributed(session, entry)


def test_a_simulated_week_leaves_one_account_sleeping_in_the_api_and_the_cli(api, channels):
    published({
        "cq-portal": [MONDAY + timedelta(days=d, hours=10) for d in range(7)],
        "cq-wechat": week((0, 9), (2, 9), (4, 9), (6, 9)),
        "yuzhong-wechat": week((1, 9), (3, 9)),
    })
    r = api.get("/api/v1/governance/freshness", params={"at": SUNDAY_NIGHT.isoformat()},
                headers=channels.auth("editor"))
    assert r.status_code == 200
    by_code = {f["code"]: f for f in r.json()}
    assert {c: (f["state"], f["label"], f["count"]) for c, f in by_code.items()} == {
        "cq-portal": ("ok", "正常", 1), "cq-wechat": ("ok", "正常", 4), "yuzhong-wechat": ("sleeping", "睡眠", 2)}
    columns = {c["column"]: c for c in by_code["cq-portal"]["columns"]}
    assert columns["xxgk"]["stale"] and columns["xxgk"]["last"] is None and columns["xxgk"]["period_days"] == 30
    assert not columns["news"]["stale"]

    # two more silent weeks and the account is a zombie; the site sleeps after one quiet day
    later = (SUNDAY_NIGHT + timedelta(days=14)).isoformat()
    r = api.get("/api/v1/governance/freshness", params={"at": later, "unit": "yuzhong"},
                headers=channels.auth("editor"))
    assert [(f["code"], f["label"]) for f in r.json()] == [("yuzhong-wechat", "僵尸")]

    result = CliRunner().invoke(ck_app, ["report", "freshness", "--json", "--failing", "--at",
                                         SUNDAY_NIGHT.replace(tzinfo=None).isoformat()])
    assert result.exit_code == 0, result.output
    assert sorted((f["code"], f["state"]) for f in json.loads(result.output)) == [
        ("cq-portal", "ok"), ("yuzhong-wechat", "sleeping")]  # cq-portal: for its stale column
    table = CliRunner().invoke(ck_app, ["report", "freshness", "--at", SUNDAY_NIGHT.replace(tzinfo=None).isoformat()])
    assert "睡眠" in table.output and "1 睡眠 or 僵尸, 1 stale columns" in table.output


def test_freshness_history_counts_each_week_for_the_console_chart(api, channels):
    this_monday = datetime.combine(now().astimezone(NEWSROOM_TZ).date(), datetime.min.time(), NEWSROOM_TZ)
    this_monday -= timedelta(days=this_monday.weekday())
    published({"cq-wechat": [this_monday - timedelta(days=6), this_monday - timedelta(days=5),
                             this_monday - timedelta(days=13)]})
    r = api.get("/api/v1/governance/freshness/history", params={"unit": "cq", "weeks": 3},
                headers=channels.auth("editor"))
    assert r.status_code == 200
    history = r.json()
    assert history["weeks"][-1] == this_monday.date().isoformat()
    wechat = next(t for t in history["targets"] if t["code"] == "cq-wechat")
    assert wechat["counts"] == [1, 2, 0] and wechat["per_week_required"] == 3


def test_deadlines_follow_the_holiday_calendar_and_count_late_items_per_unit(api, channels):
    holiday = sign_off(written_date="2026-09-29", doc_no="渝府办发〔2026〕88号")  # due 9 Oct after National Day
    fresh = sign_off(title="重庆市人民政府办公厅关于印发当日文件的通知", doc_no="渝府办发〔2026〕89号",
                     written_date=now().astimezone(NEWSROOM_TZ).date().isoformat())
    news = sign_off(title="渝中区开展便民服务进社区活动", kind="news", doc_no=None, written_date=None)
    reply = create_item_only(title="关于市民反映的路灯维修问题的答复")

    r = api.get(f"/api/v1/governance/items/{holiday}/deadline", headers=channels.auth("editor"))
    assert r.json()["due_date"] == "2026-10-09" and r.json()["state"] == "late"
    assert r.json()["rule"] == "normative" and not r.json()["estimated"]
    met = api.get(f"/api/v1/governance/items/{fresh}/deadline", headers=channels.auth("editor")).json()
    assert met["state"] == "met"
    assert api.get(f"/api/v1/governance/items/{news}/deadline", headers=channels.auth("editor")).json() is None

    event = (now() - timedelta(hours=30)).isoformat()
    r = api.put(f"/api/v1/governance/items/{news}/deadline", headers=channels.auth("editor2"),
                json={"rule": "livelihood", "starts_at": event})
    assert r.status_code == 403  # another unit
    r = api.put(f"/api/v1/governance/items/{news}/deadline", headers=channels.auth("editor"),
                json={"rule": "livelihood", "starts_at": event, "note": "活动于昨日上午举行"})
    assert r.status_code == 200 and r.json()["state"] == "late" and 5.9 < r.json()["late_hours"] < 6.2
    result = CliRunner().invoke(ck_app, ["items", "deadline", str(reply), "--rule", "reply", "--starts-at",
                                         now().astimezone(NEWSROOM_TZ).replace(tzinfo=None).isoformat(
                                             timespec="seconds")], env={"CK_TOKEN": channels.tokens["editor"]})
    assert result.exit_code == 0 and "回应：7个工作日内答复" in result.output and "open" in result.output

    late = api.get("/api/v1/governance/deadlines", params={"state": "late"}, headers=channels.auth("editor")).json()
    assert sorted(d["item"] for d in late) == sorted([holiday, news])
    result = CliRunner().invoke(ck_app, ["report", "deadlines", "--json"])
    assert json.loads(result.output)["per_unit"]["cq"] == {"met": 1, "late": 2, "open": 1, "overdue": 0}


def create_item_only(**overrides) -> int:
    with session_scope() as session:
        return create_item(session, get_user(session, "editor"), ItemCreate(**policy_body(
            kind="notice", doc_no=None, written_date=None, **overrides)), get_settings()).id


def test_the_quarterly_report_comes_as_html_with_charts_and_as_csv(api, channels, tmp_path):
    published({"cq-portal": week((0, 10), (1, 10), (2, 10)), "cq-wechat": week((0, 9), (2, 9), (4, 9), (6, 9))})
    holiday = sign_off(written_date="2026-09-29", doc_no="渝府办发〔2026〕88号")
    r = api.get("/api/v1/governance/reports/quarterly", params={"unit": "cq", "quarter": "2026Q4", "format": "csv"},
                headers=channels.auth("editor"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    targets = {row["code"]: row for row in rows if row["section"] == "target"}
    assert set(targets) == {"cq-portal", "cq-wechat"}  # yuzhong's account is in yuzhong's report
    assert targets["cq-wechat"]["publications"] == "4" and targets["cq-portal"]["publications"] == "3"
    assert targets["cq-portal"]["stale_columns"] == "政府信息公开"
    [deadline] = [row for row in rows if row["section"] == "deadline"]
    assert (deadline["item"], deadline["due_date"], deadline["deadline_state"]) == (str(holiday), "2026-10-09", "late")

    html = api.get("/api/v1/governance/reports/quarterly", params={"unit": "cq", "quarter": "2026q4"},
                   headers=channels.auth("editor"))
    assert html.status_code == 200 and html.text.count("<svg") == 3  # two targets and the deadlines
    assert "重庆市人民政府办公厅（cq）2026Q4 季度报告" in html.text and "逾期发布" in html.text
    bad = api.get("/api/v1/governance/reports/quarterly", params={"unit": "cq", "quarter": "2026-3"},
                  headers=channels.auth("editor"))
    assert bad.status_code == 422 and "not like 2026Q3" in bad.json()["detail"]

    result = CliRunner().invoke(ck_app, ["report", "quarterly", "--unit", "yuzhong", "--quarter", "2026Q4",
                                         "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "yuzhong-2026Q4.html").read_text(encoding="utf-8").count("<svg") == 2
    yuzhong = list(csv.DictReader((tmp_path / "yuzhong-2026Q4.csv").open(encoding="utf-8")))
    assert [(r["code"], r["publications"]) for r in yuzhong] == [("yuzhong-wechat", "0")]


def test_a_dictionary_change_rescans_published_items_and_a_signer_takes_one_down(api, channels, tmp_path,
                                                                                 monkeypatch):
    first = sign_off()
    second = sign_off(title="重庆市人民政府办公厅关于推进政务公开标准化的通知")
    draft = create_item_only(title="政务公开工作要点（草稿）")
    relayed(first), relayed(second)
    settings = get_settings()
    with session_scope() as session:
        assert rescan.due(session, settings, now()).reason == "first scan"
        assert rescan.due(session, settings, now()) is None  # nothing changed, not a day yet

    words = tmp_path / "words.txt"
    words.write_text("# 新增敏感词\n标准化规范化\n", encoding="utf-8")
    monkeypatch.setenv("CK_SENSITIVE_WORDS_FILE", str(words))
    get_settings.cache_clear()
    with session_scope() as session:
        result = rescan.due(session, get_settings(), now())
    assert result.reason == "the dictionary changed" and result.scanned == 2 and result.new_findings == 2

    words.write_text("标准化规范化\n标准化的通知\n", encoding="utf-8")
    r = api.post("/api/v1/governance/rescan", headers=channels.auth("admin"))
    assert r.status_code == 200 and r.json()["new_findings"] == 1  # only what is new: the second title
    assert api.get("/api/v1/governance/findings", headers=channels.auth("editor")).status_code == 403
    found = api.get("/api/v1/governance/findings", headers=channels.auth("signer")).json()
    assert sorted((f["item"], f["text"]) for f in found) == sorted(
        [(first, "标准化规范化"), (second, "标准化规范化"), (second, "标准化的通知")])
    assert draft not in {f["item"] for f in found}

    pick = next(f for f in found if f["item"] == first)
    r = api.post(f"/api/v1/governance/findings/{pick['id']}/takedown", json={}, headers=channels.auth("signer"))
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    with session_scope() as session:
        assert session.get(Item, first).status == "withdrawn"
        takedowns = session.exec(select(OutboxEntry).where(OutboxEntry.item_id == first,
                                                           OutboxEntry.event_type == "takedown")).all()
    assert len(takedowns) == 1 and "rescan: sensitive_word" in takedowns[0].payload
    after = api.get("/api/v1/governance/findings", params={"status": "taken_down"}, headers=channels.auth("signer"))
    assert [f["item"] for f in after.json()] == [first]

    other = next(f for f in found if f["text"] == "标准化的通知")
    result = CliRunner().invoke(ck_app, ["findings", "dismiss", str(other["id"]), "--comment", "政策原文用语"],
                                env={"CK_TOKEN": channels.tokens["signer"]})
    assert result.exit_code == 0, result.output

    words.write_text("与本稿无关的词\n", encoding="utf-8")
    result = CliRunner().invoke(ck_app, ["rescan"])
    assert result.exit_code == 0 and "1 published items scanned, 0 new findings, 1 cleared" in result.output
    statuses = {(f["text"], f["status"]) for f in api.get("/api/v1/governance/findings", params={"status": ""},
                                                          headers=channels.auth("admin")).json()}
    assert statuses == {("标准化规范化", "taken_down"), ("标准化的通知", "dismissed"), ("标准化规范化", "cleared")}


def test_emergency_items_waiting_for_review_are_listed_for_the_console(api, channels):
    settings = get_settings()
    with session_scope() as session:
        item = create_item(session, get_user(session, "editor"), ItemCreate(**policy_body(
            title="关于暴雨红色预警的紧急通知", kind="emergency", doc_no=None, written_date=None)), settings)
        workflow.submit(session, get_user(session, "editor"), item.id, settings)
    alerts = api.get("/api/v1/governance/alerts", headers=channels.auth("reviewer1")).json()
    assert [(a["id"], a["level"]) for a in alerts["emergency_in_review"]] == [(item.id, 1)]
    assert api.get("/api/v1/governance/alerts", headers=channels.auth("editor2")).json()["emergency_in_review"] == []
