"""`ck sandbox`: the platform emulators on loopback, for trying Central Kitchen without accounts."""

import json
import threading

import typer

from pipeline.cli.common import out


def sandbox(units: list[str] = typer.Option(["cq"], "--unit", help="units to create sandbox accounts for"),
            apps: list[str] = typer.Option(["app"], "--app", help="app codes for webhook receivers")):
    """Run the WeChat, Weibo and app-webhook emulators until Ctrl-C, printing the target configs to use."""
    from connectors.sandbox.platforms import Sandbox

    with Sandbox(list(units), apps=list(apps)) as box:
        out.print(f"WeChat emulator   {box.wechat.url}/cgi-bin/   (inspect: {box.wechat.url}/_sandbox/posts)")
        out.print(f"Weibo emulator    {box.weibo.url}/2/          (inspect: {box.weibo.url}/_sandbox/posts)")
        out.print(f"webhook receiver  {box.webhooks.url}/hooks/{{app}} (inspect: {box.webhooks.url}/_sandbox/posts)")
        out.print("register targets with these configs (ck targets add … --config '…'):")
        for unit in units:
            out.print(f"  {unit}-wechat: {json.dumps(box.wechat_config(unit))}", soft_wrap=True)
            out.print(f"  {unit}-weibo:  {json.dumps(box.weibo_config(unit))}", soft_wrap=True)
        for app in apps:
            out.print(f"  feed {app}:   {json.dumps(box.appfeed_config(app))}", soft_wrap=True)
        out.print("Ctrl-C stops the emulators.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
