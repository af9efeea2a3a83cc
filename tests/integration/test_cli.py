"""The `ck` command line: the same store and review as the API, clear errors and exit codes."""

import pytest
from typer.testing import CliRunner

from pipeline.cli.main import app
from tests.factories import INTERPRETATION_BODY, POLICY_BODY


@pytest.fixture
def ck(settings, monkeypatch):
    runner = CliRunner()

    def run(*args, token: str | None = None, input: str | None = None):
        env = {"CK_TOKEN": token} if token else {}
        if not token:
            monkeypatch.delenv("CK_TOKEN", raising=False)
        return runner.invoke(app, list(args), env=env, input=input)

    return run


def new_user(ck, name: str, role: str, unit: str = "cq") -> str:
    result = ck("users", "add", name, "--role", role, "--unit", unit)
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("ck_") and " " not in token
    return token


def test_four_people_take_a_policy_and_its_interpretation_through_three_levels(ck, tmp_path):
    assert ck("units", "add", "cq", "--name", "重庆市人民政府办公厅", "--org-code", "008282882").exit_code == 0
    assert ck("units", "add", "yuzhong", "--name", "渝中区人民政府", "--parent", "cq").exit_code == 0
    editor, r1, r2, signer = (new_user(ck, n, r) for n, r in
                              [("wangfang", "editor"), ("liqiang", "reviewer"), ("zhangmin", "reviewer"),
                               ("chenjing", "signer")])
    body = tmp_path / "policy.html"
    body.write_text(POLICY_BODY, encoding="utf-8")
    result = ck("items", "create", "--title", "重庆市人民政府办公厅关于进一步加强政府网站信息内容建设的通知",
                "--kind", "policy", "--body-file", str(body), "--doc-no", "渝府办发〔2019〕64号",
                "--written-date", "2019-06-18", "--keywords", "政务公开,政府网站", token=editor)
    assert result.exit_code == 0, result.output
    assert "item 1 rev 1" in result.output and "008282882/2019-00001" in result.output
    result = ck("items", "create", "--title", "政策解读", "--kind", "interpretation", "--body", INTERPRETATION_BODY,
                "--interprets", "1", token=editor)
    assert result.exit_code == 0, result.output

    assert ck("items", "submit", "1", token=editor).exit_code == 0
    result = ck("items", "review", "1", "approve", token=editor)
    assert result.exit_code == 1 and "needs a reviewer; your role is editor" in result.output
    assert ck("items", "review", "1", "approve", "--comment", "同意", token=r1).exit_code == 0
    result = ck("items", "review", "1", "approve", token=r1)
    assert result.exit_code == 1 and "one level only" in result.output
    assert ck("items", "review", "1", "approve", token=r2).exit_code == 0
    result = ck("items", "review", "1", "approve", token=signer)
    assert result.exit_code == 0 and "status approved" in result.output and "canonical URL" in result.output

    result = ck("items", "show", "1")
    assert "level 1 初审: approve by liqiang — 同意" in result.output
    assert "level 3 审发: approve by chenjing" in result.output
    result = ck("audit", "--item", "1", "--json")
    assert result.exit_code == 0 and '"action": "review.approve"' in result.output and "chenjing" in result.output


def test_errors_are_messages_with_a_non_zero_exit(ck):
    assert ck("units", "add", "cq", "--name", "重庆市").exit_code == 0
    token = new_user(ck, "editor", "editor")
    result = ck("units", "add", "cq", "--name", "again")
    assert result.exit_code == 1 and "already exists" in result.output
    result = ck("users", "add", "x", "--role", "boss", "--unit", "cq")
    assert result.exit_code == 2  # Typer refuses an unknown role
    result = ck("users", "add", "x", "--role", "editor", "--unit", "nowhere")
    assert result.exit_code == 1 and "does not exist" in result.output
    result = ck("items", "create", "--title", "t", "--kind", "news", "--body", "<p>x</p>")
    assert result.exit_code == 2 and "CK_TOKEN" in result.output
    result = ck("items", "create", "--title", "t", "--kind", "news", "--body", "<p>x</p>", token="wrong")
    assert result.exit_code == 1 and "token" in result.output
    result = ck("items", "show", "42")
    assert result.exit_code == 1 and "item 42 does not exist" in result.output
    result = ck("items", "create", "--title", "个人信息", "--kind", "news",
                "--body", "<p>联系人手机13800138000</p>", token=token)
    assert result.exit_code == 0
    result = ck("items", "submit", "1", token=token)
    assert result.exit_code == 1 and "mobile" in result.output and "13800138000" in result.output
