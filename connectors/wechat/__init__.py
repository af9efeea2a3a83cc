"""WeChat official accounts: connector, client, renderer (the emulator lives in `emulator/`).

    connector.py  WeChatConnector — the channel's Connector (publish, verify, take down, correct)
    client.py     CKWeChatClient — wechatpy's client with stable tokens and one bounded retry
    render.py     render_article — item → WeChat article (limits, safe HTML, images to upload)
    images.py     fit uploads to WeChat's format and size limits
    errors.py     WeChat errcodes and HTTP failures → retryable / permanent / unknown
    emulator/     a faithful loopback WeChat server for tests and the demo
"""

from connectors.wechat.client import CKWeChatClient
from connectors.wechat.connector import AccountConfig, WeChatConnector
from connectors.wechat.render import WeChatArticle, render_article

__all__ = ["AccountConfig", "CKWeChatClient", "WeChatArticle", "WeChatConnector", "render_article"]
