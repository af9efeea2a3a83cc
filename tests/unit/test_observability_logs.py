"""The log redactor and formatters: credentials never leave in a line, context fields always do."""

import asyncio
import json
import logging

import pytest

from pipeline.observability.logs import JsonFormatter, Redactor, TextFormatter, log_context, logging_config


@pytest.fixture
def redactor() -> Redactor:
    r = Redactor()
    r.remember_config({"appid": "wxcqsandbox", "secret": "wechat-app-secret-1",
                       "nested": {"access_token": "2.00weibo-token"}, "webhook_secret": "hook-secret-x"})
    r.remember_url_password("postgresql+psycopg://ck:db-password-9@db.internal:5432/ck")
    return r


@pytest.mark.parametrize("text, secret", [
    ("POST /cgi-bin/draft/add?access_token=RUNTIME-TOKEN-123&x=1", "RUNTIME-TOKEN-123"),
    ("HTTPConnectionPool: Max retries exceeded with url: /2/statuses/share.json?access_token=abc123def", "abc123def"),
    ("config {'appid': 'wx1', 'secret': 'some-other-secret'}", "some-other-secret"),
    ('body {"access_token": "tok-in-json", "status": "ok"}', "tok-in-json"),
    ("Authorization: Bearer ck_live_0123456789abcdef", "ck_live_0123456789abcdef"),
    ("connecting to postgresql://ck:pw-in-url@10.0.0.5/ck", "pw-in-url"),
    ("the account secret is wechat-app-secret-1 (known value)", "wechat-app-secret-1"),
    ("weibo said 2.00weibo-token is expired", "2.00weibo-token"),
    ("signature made with hook-secret-x", "hook-secret-x"),
    ("db password db-password-9 in a message", "db-password-9"),
])
def test_credentials_are_masked(redactor, text, secret):
    masked = redactor(text)
    assert secret not in masked and "***" in masked


def test_ordinary_text_is_left_alone(redactor):
    text = "delivery 12 to cq-wechat succeeded: https://mp.weixin.qq.com/s/abc (重庆发布)"
    assert redactor(text) == text


def test_short_values_are_not_remembered_as_secrets():
    r = Redactor()
    r.remember("abc", None, 12345)
    assert r("abc 12345") == "abc 12345"


def _record(message: str, *args, exc: BaseException | None = None, **extra) -> logging.LogRecord:
    record = logging.LogRecord("ck.test", logging.ERROR if exc else logging.INFO, __file__, 1, message, args,
                               (type(exc), exc, exc.__traceback__) if exc else None)
    record.__dict__.update(extra)
    return record


def test_json_lines_carry_the_delivery_context_and_no_secret():
    from pipeline.observability.logs import redact

    redact.remember("a-secret-for-json-test")
    with log_context(delivery_id=7, item_id=3, revision=2, target="cq-weibo"):
        try:
            raise RuntimeError("token a-secret-for-json-test refused")
        except RuntimeError as exc:
            line = JsonFormatter().format(_record("call failed: %s", "access_token=xyz987", exc=exc))
    data = json.loads(line)
    assert (data["delivery_id"], data["item_id"], data["revision"], data["target"]) == (7, 3, 2, "cq-weibo")
    assert data["level"] == "error" and data["logger"] == "ck.test"
    assert "xyz987" not in line and "a-secret-for-json-test" not in line
    assert "RuntimeError" in data["exc"]


def test_context_follows_the_work_into_threads():
    async def main() -> str:
        with log_context(delivery_id=99, target="cq-app"):
            return await asyncio.to_thread(lambda: JsonFormatter().format(_record("in the thread")))

    assert json.loads(asyncio.run(main()))["delivery_id"] == 99


def test_text_format_for_terminals_lists_context_after_the_message():
    with log_context(delivery_id=5):
        line = TextFormatter().format(_record("hello %s", "world", target="cq-portal"))
    assert "hello world" in line and "delivery_id=5" in line and "target=cq-portal" in line


def test_logging_config_picks_json_or_text():
    assert logging_config("info", "json")["formatters"]["ck"]["()"].endswith("JsonFormatter")
    assert logging_config("info", "text")["formatters"]["ck"]["()"].endswith("TextFormatter")
    assert logging_config("debug", "json")["root"]["level"] == logging.DEBUG
