"""The account registry through the API and the CLI: applications, approvals, 备案, the one-account
rule, and credentials that are sealed at rest, never returned and survive a key rotation."""

import json

import pytest
from cryptography.fernet import Fernet
from sqlmodel import select
from typer.testing import CliRunner

from pipeline.cli.main import app as ck_app
from pipeline.config import get_settings
from pipeline.distribution.channels import runtime_target
from pipeline.governance.credentials import CredentialsUnavailable, Keyring, key_file, keyring
from pipeline.registry.targets import add_target
from pipeline.store.db import session_scope
from pipeline.store.models import AuditEntry, ChannelTarget
from schemas.item import ItemSnapshot

SECRET = "app-secret-不要外传-7f3a"
FILING = {"filing_no": "渝ICP备2026001234号", "filing_approver": "重庆市委网信办", "filing_date": "2026-09-01",
          "responsible_person": "王芳"}


def snapshot() -> ItemSnapshot:
    return ItemSnapshot.model_validate({
        "id": 1, "revision": 1, "kind": "news", "title": "t", "body_html": "<p>b</p>",
        "unit": {"code": "cq", "name": "重庆市人民政府办公厅"}, "issuer": "重庆市人民政府办公厅",
        "index_no": "008282882/2026-00001",
        "canonical_url": "http://127.0.0.1:8000/sites/cq/news/1.html", "published_at": "2026-11-21T08:00:00+08:00",
        "updated_at": "2026-11-21T08:00:00+08:00"})


def row(code: str) -> ChannelTarget:
    with session_scope() as session:
        return session.exec(select(ChannelTarget).where(ChannelTarget.code == code)).one()


def test_an_account_goes_from_application_to_active_with_approval_and_a_filing(api, room):
    r = api.post("/api/v1/governance/registry", headers=room.auth("editor2"), json={
        "code": "yuzhong-wechat", "channel": "wechat", "unit": "yuzhong", "name": "渝中发布",
        "config": {"appid": "wxyuzhong", "secret": SECRET}, "responsible_person": "李强"})
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["status"] == "applied" and entry["credentials"] == ["secret"] and SECRET not in r.text
    assert entry["missing_for_active"] == ["the 备案 record number", "who approved the 备案", "the 备案 date"]

    # a unit keeps one account per platform: the registry says so
    r = api.post("/api/v1/governance/registry", headers=room.auth("editor2"), json={
        "code": "yuzhong-wechat-2", "channel": "wechat", "unit": "yuzhong", "name": "渝中发布二号"})
    assert r.status_code == 409 and "already has 1 wechat account(s) (yuzhong-wechat)" in r.json()["detail"]
    # nor may someone of another unit apply for yuzhong
    r = api.post("/api/v1/governance/registry", headers=room.auth("editor"), json={
        "code": "yuzhong-weibo", "channel": "weibo", "unit": "yuzhong", "name": "渝中微博"})
    assert r.status_code == 403

    r = api.post("/api/v1/governance/registry/yuzhong-wechat/status", headers=room.auth("editor2"),
                 json={"to": "active", "reason": "开通"})
    assert r.status_code == 422 and "without the 备案 record number" in r.json()["detail"]
    r = api.post("/api/v1/governance/registry/yuzhong-wechat/status", headers=room.auth("editor2"),
                 json={"to": "active", "reason": "备案已完成，申请开通"} | FILING)
    assert r.status_code == 201 and r.json()["decision"] == "pending"
    change = r.json()["id"]
    assert row("yuzhong-wechat").status == "applied"
    r = api.post("/api/v1/governance/registry/yuzhong-wechat/status", headers=room.auth("editor2"),
                 json={"to": "closed", "reason": "再想想"})
    assert r.status_code == 409 and "already has a change waiting" in r.json()["detail"]

    assert api.post(f"/api/v1/governance/registry-changes/{change}/approve", headers=room.auth("signer"),
                    json={}).status_code == 403
    r = api.post(f"/api/v1/governance/registry-changes/{change}/approve", headers=room.auth("admin"),
                 json={"comment": "同意开通"})
    assert r.status_code == 200 and r.json()["decision"] == "approved" and r.json()["decided_by"] == "admin"
    active = row("yuzhong-wechat")
    assert active.status == "active" and active.filing_no == FILING["filing_no"] and active.responsible_person == "王芳"

    # an admin's own change is approved at once; closed is final
    r = api.post("/api/v1/governance/registry/yuzhong-wechat/status", headers=room.auth("admin"),
                 json={"to": "closed", "reason": "账号注销"})
    assert r.status_code == 201 and r.json()["decision"] == "approved"
    r = api.post("/api/v1/governance/registry/yuzhong-wechat/status", headers=room.auth("admin"),
                 json={"to": "active", "reason": "恢复"})
    assert r.status_code == 409 and "closed is final" in r.json()["detail"]
    # closed accounts do not count: the unit may open a new one
    r = api.post("/api/v1/governance/registry", headers=room.auth("editor2"), json={
        "code": "yuzhong-wechat-new", "channel": "wechat", "unit": "yuzhong", "name": "渝中发布"})
    assert r.status_code == 201

    with session_scope() as session:
        audit = [(e.action, e.detail) for e in session.exec(select(AuditEntry).order_by(AuditEntry.id))
                 if e.action.startswith("target.")]
    statuses = [d for a, d in audit if a == "target.status"]
    assert [(d["from_status"], d["to_status"]) for d in statuses] == [("applied", "active"), ("active", "closed")]
    assert statuses[0]["reason"] == "备案已完成，申请开通" and statuses[0]["approved_by"] != statuses[0]["requested_by"]
    assert SECRET not in json.dumps([d for _, d in audit], ensure_ascii=False)

    changes = api.get("/api/v1/governance/registry-changes?target=yuzhong-wechat", headers=room.auth("editor")).json()
    assert [(c["to_status"], c["decision"]) for c in changes] == [("active", "approved"), ("closed", "approved")]


def test_credentials_are_sealed_at_rest_never_returned_and_opened_for_the_connector(api, room, settings):
    r = api.post("/api/v1/targets", headers=room.auth("admin"), json={
        "code": "cq-weibo", "channel": "weibo", "unit": "cq", "name": "重庆发布微博",
        "config": {"access_token": SECRET, "uid": "5000000001", "api_base_url": "http://127.0.0.1:9/2/"}})
    assert r.status_code == 201 and SECRET not in r.text
    for path in ("/api/v1/targets", "/api/v1/governance/registry", "/api/v1/governance/registry/cq-weibo"):
        assert SECRET not in api.get(path, headers=room.auth("admin")).text
    stored = row("cq-weibo")
    assert "access_token" not in stored.config and SECRET not in (stored.secrets or "")
    assert keyring(settings).open(stored.secrets) == {"access_token": SECRET}
    target = runtime_target(stored, snapshot(), settings)
    assert target.config["access_token"] == SECRET and target.config["uid"] == "5000000001"


def test_ck_keys_rotate_reseals_everything_and_seals_plain_secrets_left_from_before(settings, room, monkeypatch):
    with session_scope() as session:
        add_target(session, "cq-wechat", "wechat", "cq", "重庆发布", {"appid": "wxcq", "secret": SECRET})
        legacy = add_target(session, "cq-app", "appfeed", "cq", "重庆App", {})
        legacy.config = {"webhook_url": "http://127.0.0.1:9/hooks/app", "webhook_secret": "plain-from-0002"}
        session.add(legacy)
    old_ring = keyring(settings)
    sealed_before = row("cq-wechat").secrets

    result = CliRunner().invoke(ck_app, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # rich wraps long lines
    assert "1 targets re-sealed, 1 sealed for the first time" in said and "old keys removed" in said
    new_ring = keyring(settings)
    assert new_ring.keys != old_ring.keys and len(new_ring.keys) == 1
    wechat, app_row = row("cq-wechat"), row("cq-app")
    assert wechat.secrets != sealed_before
    with pytest.raises(CredentialsUnavailable):
        Keyring(old_ring.keys, "old").open(wechat.secrets)
    assert new_ring.open(wechat.secrets) == {"secret": SECRET}
    assert app_row.config == {"webhook_url": "http://127.0.0.1:9/hooks/app"}
    assert runtime_target(app_row, snapshot(), settings).config["webhook_secret"] == "plain-from-0002"
    assert key_file(settings).read_text().strip() == new_ring.keys[0].decode()

    # with keys in the environment: the operator puts the new key first, and rotate re-seals under it
    fresh = Fernet.generate_key().decode()
    monkeypatch.setenv("CK_SECRET_KEY", f"{fresh},{new_ring.keys[0].decode()}")
    get_settings.cache_clear()
    result = CliRunner().invoke(ck_app, ["keys", "rotate"])
    assert result.exit_code == 0 and "first key of CK_SECRET_KEY" in " ".join(result.output.split())
    assert Keyring((fresh.encode(),), "fresh").open(row("cq-wechat").secrets) == {"secret": SECRET}
    assert len(CliRunner().invoke(ck_app, ["keys", "generate"]).output.strip()) == 44


def test_the_cli_changes_status_with_approval_and_refuses_a_second_account(settings, room):
    runner = CliRunner()
    with session_scope() as session:
        add_target(session, "cq-weibo", "weibo", "cq", "重庆发布微博", {"access_token": SECRET})
    result = runner.invoke(ck_app, ["targets", "add", "cq-weibo-2", "--channel", "weibo", "--unit", "cq",
                                    "--name", "第二个微博"])
    assert result.exit_code == 1 and "already has 1 weibo account(s) (cq-weibo)" in result.output

    result = runner.invoke(ck_app, ["targets", "status", "cq-weibo", "--to", "suspended", "--reason", "整改"],
                           env={"CK_TOKEN": room.tokens["editor"]})
    assert result.exit_code == 0 and "requested (change 1 waits for an admin)" in result.output
    result = runner.invoke(ck_app, ["targets", "approve", "1"], env={"CK_TOKEN": room.tokens["editor"]})
    assert result.exit_code == 1 and "only an admin decides" in result.output
    result = runner.invoke(ck_app, ["targets", "approve", "1", "--comment", "同意"],
                           env={"CK_TOKEN": room.tokens["admin"]})
    assert result.exit_code == 0 and "change 1 approved" in result.output
    assert row("cq-weibo").status == "suspended"
    result = runner.invoke(ck_app, ["targets", "status", "cq-weibo", "--to", "active", "--reason", "整改完成",
                                    "--filing-no", "渝ICP备2026009号", "--filing-approver", "市委网信办",
                                    "--filing-date", "2026-10-20", "--responsible-person", "张敏"],
                           env={"CK_TOKEN": room.tokens["admin"]})
    assert result.exit_code == 0 and "suspended → active approved" in result.output
    result = runner.invoke(ck_app, ["targets", "changes", "--json"])
    assert [(c["from_status"], c["to_status"], c["decision"]) for c in json.loads(result.output)] == [
        ("active", "suspended", "approved"), ("suspended", "active", "approved")]
    result = runner.invoke(ck_app, ["targets", "status", "cq-weibo", "--to", "applied", "--reason", "x"],
                           env={"CK_TOKEN": room.tokens["admin"]})
    assert result.exit_code == 1 and "a target that is active cannot become applied" in result.output
