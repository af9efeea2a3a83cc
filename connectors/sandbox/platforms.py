"""Every outside platform emulated on loopback at once — WeChat, Weibo and an app-webhook receiver —
with the credentials and target settings that point Central Kitchen's connectors at them.

Used by the tests, by `ck demo` and by `ck sandbox`. Only the outside world is emulated here."""

import zlib
from dataclasses import dataclass, field

import httpx

from connectors.appfeed.receiver import create_app as webhook_receiver
from connectors.sandbox.server import ServerThread
from connectors.wechat.emulator import create_app as wechat_emulator
from connectors.wechat.emulator.state import EmulatorConfig as WeChatConfig
from connectors.weibo.emulator import EmulatorConfig as WeiboConfig
from connectors.weibo.emulator import WeiboAccount
from connectors.weibo.emulator import create_app as weibo_emulator


@dataclass
class SandboxAccounts:
    """Per-unit sandbox credentials: unit code → WeChat (appid, secret), Weibo (token, uid), webhook secret."""

    units: list[str]

    def wechat(self, unit: str) -> tuple[str, str]:
        return f"wx{unit}sandbox", f"secret-{unit}"

    def weibo(self, unit: str) -> tuple[str, str]:
        return f"weibo-token-{unit}", str(5_000_000_000 + zlib.crc32(unit.encode()) % 1_000_000_000)

    def webhook_secret(self, app_code: str) -> str:
        return f"hook-secret-{app_code}"


@dataclass
class Sandbox:
    units: list[str]
    apps: list[str] = field(default_factory=lambda: ["app"])
    safe_domains: list[str] = field(default_factory=lambda: ["gov.cn", "127.0.0.1", "localhost"])
    publish_delay_ms: int = 200

    def __post_init__(self) -> None:
        self.accounts = SandboxAccounts(self.units)
        wechat = WeChatConfig(accounts=dict(self.accounts.wechat(u) for u in self.units),
                              publish_delay_ms=self.publish_delay_ms)
        weibo = WeiboConfig(accounts=[WeiboAccount(*self.accounts.weibo(u), screen_name=f"{u}发布")
                                      for u in self.units], safe_domains=self.safe_domains, require_rip=False)
        self.wechat = ServerThread(wechat_emulator(wechat))
        self.weibo = ServerThread(weibo_emulator(weibo))
        self.webhooks = ServerThread(webhook_receiver({a: self.accounts.webhook_secret(a) for a in self.apps}))

    def start(self) -> "Sandbox":
        for server in (self.wechat, self.weibo, self.webhooks):
            server.start()
        return self

    def stop(self) -> None:
        for server in (self.wechat, self.weibo, self.webhooks):
            server.stop()

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def wechat_config(self, unit: str) -> dict:
        appid, secret = self.accounts.wechat(unit)
        return {"appid": appid, "secret": secret, "api_base_url": f"{self.wechat.url}/cgi-bin/", "timeout": 5,
                "poll_seconds": 2}

    def weibo_config(self, unit: str) -> dict:
        token, uid = self.accounts.weibo(unit)
        return {"access_token": token, "uid": uid, "api_base_url": f"{self.weibo.url}/2/", "timeout": 5}

    def appfeed_config(self, app: str) -> dict:
        return {"webhook_url": f"{self.webhooks.url}/hooks/{app}", "webhook_secret": self.accounts.webhook_secret(app)}

    def posts(self) -> dict[str, list[dict]]:
        """What each platform holds, from its inspection endpoint."""
        return {name: httpx.get(f"{server.url}/_sandbox/posts", timeout=10).json()
                for name, server in (("wechat", self.wechat), ("weibo", self.weibo), ("webhooks", self.webhooks))}

    def faults(self, platform: str, **settings) -> None:
        server = {"wechat": self.wechat, "weibo": self.weibo, "webhooks": self.webhooks}[platform]
        httpx.post(f"{server.url}/_sandbox/faults", json=settings, timeout=10).raise_for_status()
