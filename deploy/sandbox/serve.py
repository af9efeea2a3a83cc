"""The platform emulators for the compose `sandbox` profile: WeChat on :8101, Weibo on :8102 and
the app-webhook receiver on :8103, listening on every interface of their container (`ck sandbox`
binds loopback only, for one machine). Credentials are the sandbox's fixed fakes
(`connectors.sandbox.platforms.SandboxAccounts`), so `seed.sh` can register targets that use them.

    python deploy/sandbox/serve.py [--host 0.0.0.0] [--unit cq --unit yuzhong] [--app app]
"""

import argparse
import signal
import threading

from connectors.appfeed.receiver import create_app as webhook_receiver
from connectors.sandbox.platforms import SandboxAccounts
from connectors.sandbox.server import ServerThread
from connectors.wechat.emulator import create_app as wechat_emulator
from connectors.wechat.emulator.state import EmulatorConfig as WeChatConfig
from connectors.weibo.emulator import EmulatorConfig as WeiboConfig
from connectors.weibo.emulator import WeiboAccount
from connectors.weibo.emulator import create_app as weibo_emulator

PORTS = {"wechat": 8101, "weibo": 8102, "webhooks": 8103}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--unit", action="append", dest="units")
    parser.add_argument("--app", action="append", dest="apps")
    parser.add_argument("--safe-domain", action="append", dest="safe_domains",
                        help="domains Weibo accepts links to (default: gov.cn, localhost, api)")
    args = parser.parse_args()
    units, apps = args.units or ["cq"], args.apps or ["app"]
    accounts = SandboxAccounts(units)
    apps_by_name = {
        "wechat": wechat_emulator(WeChatConfig(accounts=dict(accounts.wechat(u) for u in units))),
        "weibo": weibo_emulator(WeiboConfig(
            accounts=[WeiboAccount(*accounts.weibo(u), screen_name=f"{u}发布") for u in units],
            safe_domains=args.safe_domains or ["gov.cn", "localhost", "api"], require_rip=False)),
        "webhooks": webhook_receiver({a: accounts.webhook_secret(a) for a in apps}),
    }
    servers = [ServerThread(app, host=args.host, port=PORTS[name]).start() for name, app in apps_by_name.items()]
    for server in servers:
        print(f"emulator listening on {server.url}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    for server in servers:
        server.stop()


if __name__ == "__main__":
    main()
