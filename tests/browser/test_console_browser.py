"""The newsroom's day in the console, in Chromium, on the real pipeline: an editor writes an item,
three different reviewers take it through 初审 → 审核 → 审发, the board turns green on all four
channels; a WeChat failure shows red and a replay turns it green; a takedown removes it everywhere.

Every wait is on page state (Playwright's `expect` retries until its timeout); nothing sleeps."""

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from pipeline.config import get_settings
from pipeline.store.db import session_scope
from pipeline.store.models import Item
from tests.browser.conftest import PASSWORD
from tests.factories import POLICY_BODY

pytestmark = [pytest.mark.browser, pytest.mark.kafka]

CHANNELS = ("cq-portal", "cq-wechat", "cq-weibo", "cq-app")
DELIVERY = 90_000  # ms: from sign-off through Kafka and the workers to the emulators


def sign_in(page: Page, name: str) -> None:
    page.goto("/console/")
    expect(page).to_have_url(re.compile(r"/console/login"))
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("heading", name="登录控制台")).to_be_visible()


def open_for_review(page: Page, who: str, level: str, shot=None) -> None:
    sign_in(page, who)
    page.get_by_role("navigation", name="审核级别").get_by_role("link", name=re.compile(f"^{level}")).click()
    expect(page.locator("#queue tbody tr")).to_have_count(1)
    if shot:
        shot(page, "review-queue")
    page.locator("#queue").get_by_role("link", name=re.compile("加强政府网站信息内容建设")).click()
    expect(page.get_by_role("heading", name=f"{level}决定")).to_be_visible()
    expect(page.get_by_text("未发现敏感词")).to_be_visible()


def cells(page: Page, item_id: int, state: str):
    return page.locator(f'tr[data-item="{item_id}"] a.cell[data-state="{state}"]')


def cell(page: Page, item_id: int, target: str):
    return page.locator(f'a.cell[data-cell="{item_id}:{target}"]')


def test_an_editor_and_three_reviewers_take_an_item_to_all_four_channels(console, page):
    console.kitchen.workers.start()
    sign_in(page, "editor")

    page.get_by_role("link", name="写稿").click()
    page.get_by_label("标题", exact=True).fill("重庆市人民政府办公厅关于进一步加强政府网站信息内容建设的通知")
    page.get_by_label("稿件类型").select_option("policy")
    page.get_by_label("摘要").fill("统一信息资源库，信息同源、分发同时，先审后发。")
    page.locator("#body").fill(POLICY_BODY)
    page.get_by_label("文号").fill("渝府办发〔2019〕64号")
    page.get_by_label("成文日期").fill("2019-06-18")
    page.get_by_label("主题词").fill("政务公开、政府网站")
    page.get_by_label("主题分类").fill("综合政务\\政务公开")
    page.get_by_label("政府信息公开", exact=True).check()
    expect(page.locator("#weibo-count")).to_have_text(re.compile(r"^\d+ / 140$"))
    console.shot(page, "editor")
    page.get_by_role("button", name="保存草稿").click()

    expect(page).to_have_url(re.compile(r"/console/items/\d+$"))
    item_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_text("已保存草稿")).to_be_visible()

    page.get_by_role("link", name="各渠道预览").click()
    for channel in ("portal", "wechat", "weibo", "appfeed"):
        expect(page.locator(f'section[data-channel="{channel}"]')).to_be_visible()
    expect(page.locator(".weibo-count.ok")).to_contain_text("/ 140")
    console.shot(page, "preview")
    page.get_by_role("button", name="预览无误，提交审核").click()
    expect(page.get_by_text("已提交审核")).to_be_visible()
    sign_out(page)

    # 初审 sends it back with a reason; the editor revises; the reviewer sees what changed
    open_for_review(page, "reviewer1", "初审", console.shot)
    expect(page.get_by_role("heading", name="首个版本（无上一版可比较）")).to_be_visible()
    page.get_by_label("审核意见").fill("请在主要任务中写明责任要求")
    page.get_by_role("button", name="退回", exact=True).click()
    expect(page.get_by_text("初审已退回")).to_be_visible()
    sign_out(page)

    sign_in(page, "editor")
    page.goto(f"/console/items/{item_id}")
    expect(page.get_by_text("已被退回：请在主要任务中写明责任要求")).to_be_visible()
    page.get_by_role("link", name="修改", exact=True).click()
    page.locator("#body").fill(POLICY_BODY.replace("落实三审三校制度。", "落实三审三校制度，谁审查谁负责。"))
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("已保存修改")).to_be_visible()
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_text("已提交审核")).to_be_visible()
    sign_out(page)

    for who, level in (("reviewer1", "初审"), ("reviewer2", "审核"), ("signer", "审发")):
        open_for_review(page, who, level)
        expect(page.get_by_role("heading", name="与第 1 版的差异")).to_be_visible()
        expect(page.locator(".diff ins")).to_have_text("，谁审查谁负责")
        if who == "reviewer1":
            console.shot(page, "review")
        page.get_by_label("审核意见").fill("同意")
        page.get_by_role("button", name="通过", exact=True).click()
        expect(page.get_by_text(f"{level}已通过")).to_be_visible()
        sign_out(page)

    sign_in(page, "admin")  # an admin's start page is the board
    expect(page.get_by_role("heading", name="分发看板")).to_be_visible()
    expect(cells(page, item_id, "succeeded")).to_have_count(4, timeout=DELIVERY)
    for target in CHANNELS:
        expect(cell(page, item_id, target)).to_have_attribute("data-state", "succeeded")
    console.shot(page, "board")

    cell(page, item_id, "cq-wechat").click()
    dialog = page.locator("#delivery-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".external-id")).not_to_have_text("—")
    expect(dialog.locator(".external-url")).to_have_attribute("href", re.compile(r"^http"))
    expect(dialog.get_by_role("cell", name="成功")).to_be_visible()
    dialog.get_by_role("button", name="关闭").click()
    expect(dialog).to_be_hidden()

    with session_scope() as session:
        assert session.get(Item, item_id).status == "published"


def test_a_wechat_failure_shows_red_a_replay_turns_it_green_and_a_takedown_removes_it_everywhere(console, page):
    kitchen = console.kitchen
    kitchen.sandbox.faults("wechat", error_rate=1.0, codes=[48001], only_paths=["/cgi-bin/draft/add"])
    first = kitchen.sign_off()
    second = kitchen.sign_off(title="重庆市人民政府办公厅关于做好2026年冬季供暖保障工作的通知",
                              doc_no="渝府办发〔2026〕3号")
    kitchen.workers.start()

    sign_in(page, "admin")
    for item_id in (first, second):
        expect(cell(page, item_id, "cq-wechat")).to_have_attribute("data-state", "failed", timeout=DELIVERY)
        expect(cells(page, item_id, "succeeded")).to_have_count(3, timeout=DELIVERY)
    expect(cell(page, first, "cq-wechat")).to_have_class(re.compile(r"\bstate-failed\b"))
    console.shot(page, "board-failure")
    kitchen.sandbox.faults("wechat")  # the account is verified now

    # one delivery: from the board cell's ledger history
    cell(page, first, "cq-wechat").click()
    dialog = page.locator("#delivery-dialog")
    expect(dialog.locator(".last-error")).to_contain_text("48001")
    dialog.get_by_role("button", name="重放这条分发").click()
    expect(page.get_by_text("已重放 1 条分发")).to_be_visible()
    expect(cell(page, first, "cq-wechat")).to_have_attribute("data-state", "succeeded", timeout=DELIVERY)

    # a selection: from the failures list, filtered by channel
    page.get_by_role("link", name="失败与重放").click()
    page.get_by_label("渠道").select_option("wechat")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("#failures tbody tr[data-delivery]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("冬季供暖")
    console.shot(page, "failures")
    page.get_by_label("全选").check()
    page.get_by_role("button", name="重放所选").click()
    expect(page.get_by_text("已重放 1 条分发")).to_be_visible()
    expect(page.locator("#failures tbody tr[data-delivery]")).to_have_count(0)
    page.get_by_role("link", name="分发看板").click()
    for item_id in (first, second):
        expect(cells(page, item_id, "succeeded")).to_have_count(4, timeout=DELIVERY)
    wechat_live = [p for p in kitchen.sandbox.posts()["wechat"] if not p.get("deleted")]
    assert len(wechat_live) == 2

    # takedown: a reason and a confirmation, then gone from every channel
    page.goto(f"/console/items/{first}")
    page.get_by_label("撤稿理由").fill("文件已废止")
    page.get_by_role("button", name="撤稿", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/console/items/{first}$"))  # the browser refused: not confirmed
    with session_scope() as session:
        assert session.get(Item, first).status == "published"
    page.get_by_label("我确认从所有渠道").check()
    page.get_by_role("button", name="撤稿", exact=True).click()
    expect(page.get_by_text("已撤稿：正在从所有渠道撤下")).to_be_visible()
    page.get_by_role("link", name="分发看板").click()
    expect(cells(page, first, "withdrawn")).to_have_count(4, timeout=DELIVERY)
    expect(cells(page, second, "succeeded")).to_have_count(4)
    console.shot(page, "board-takedown")

    with session_scope() as session:
        canonical = session.get(Item, first).canonical_url
    posts = kitchen.sandbox.posts()
    assert [p for p in posts["wechat"] if not p.get("deleted") and p["content_source_url"] == canonical] == []
    assert [p for p in posts["weibo"] if not p.get("deleted") and canonical in p["text"]] == []
    assert len([p for p in posts["weibo"] if not p.get("deleted")]) == 1
    page_path = canonical.split("/sites/", 1)[1]
    assert not (get_settings().sites_dir / page_path).exists()
    assert httpx.get(f"{console.url}/sites/{page_path}").status_code == 404
    feed = httpx.get(f"{console.url}/feeds/cq-app/feed.json").json()
    assert f"urn:ck:item:{first}" not in [i["id"] for i in feed["items"]]
    assert f"urn:ck:item:{second}" in [i["id"] for i in feed["items"]]
    assert f"urn:ck:item:{first}" in [r["id"] for r in feed["_ck_removed"]]
