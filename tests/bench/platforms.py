"""The platform emulators in a process of their own, so their CPU and memory are not the bench's.

    python -m tests.bench.platforms OUT.json UNIT [UNIT …]

Starts the WeChat, Weibo and app-webhook emulators on loopback with one account (and one app) per
unit, writes `{"wechat": url, "weibo": url, "webhooks": url, "targets": {unit: {channel: config}}}`
to OUT.json and serves until SIGTERM. Quotas are raised (Weibo's 30 posts an hour, WeChat's token
calls a day, the connectors' own token buckets), and WeChat publish jobs finish at once: latency
comes only from `/_sandbox/faults` `latency_ms`, which the bench sets per scenario.
"""

import json
import signal
import sys
import threading
from pathlib import Path

from connectors.appfeed.receiver import create_app as webhook_receiver
from connectors.sandbox.platforms import SandboxAccounts
from connectors.sandbox.server import ServerThread
from connectors.wechat.emulator import create_app as wechat_emulator
from connectors.wechat.emulator.state import EmulatorConfig as WeChatConfig
from connectors.weibo.emulator import EmulatorConfig as WeiboConfig
from connectors.weibo.emulator import WeiboAccount
from connectors.weibo.emulator import create_app as weibo_emulator

UNLIMITED = 10**9


def target_configs(accounts: SandboxAccounts, unit: str, urls: dict[str, str]) -> dict[str, dict]:
    appid, secret = accounts.wechat(unit)
    token, uid = accounts.weibo(unit)
    return {
        "wechat": {"appid": appid, "secret": secret, "api_base_url": f"{urls['wechat']}/cgi-bin/", "timeout": 10,
                   "poll_seconds": 5, "poll_interval": 0.02, "rate_per_sec": 10_000, "burst": 10_000},
        "weibo": {"access_token": token, "uid": uid, "api_base_url": f"{urls['weibo']}/2/", "timeout": 10,
                  "posts_per_hour": UNLIMITED},
        "appfeed": {"webhook_url": f"{urls['webhooks']}/hooks/{unit}", "webhook_secret": accounts.webhook_secret(unit)},
    }


def main(out: Path, units: list[str]) -> None:
    accounts = SandboxAccounts(units)
    servers = {
        "wechat": ServerThread(wechat_emulator(WeChatConfig(
            accounts=dict(accounts.wechat(u) for u in units), publish_delay_ms=0, token_daily_limit=UNLIMITED))),
        "weibo": ServerThread(weibo_emulator(WeiboConfig(
            accounts=[WeiboAccount(*accounts.weibo(u), screen_name=f"{u}发布") for u in units],
            safe_domains=["gov.cn", "127.0.0.1", "localhost"], require_rip=False, posts_per_hour=UNLIMITED))),
        "webhooks": ServerThread(webhook_receiver({u: accounts.webhook_secret(u) for u in units})),
    }
    for server in servers.values():
        server.start()
    urls = {name: server.url for name, server in servers.items()}
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(urls | {"targets": {u: target_configs(accounts, u, urls) for u in units}}))
    tmp.replace(out)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for server in servers.values():
        server.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
