"""Sina Weibo: items become posts through statuses/share.json, linking to their portal page.

`client` is the httpx API client, `errors` its exception tree, `render` item → post text,
`connector` the channel connector, `emulator` the loopback fake of the Weibo open API.
"""

from connectors.weibo.client import WeiboClient
from connectors.weibo.connector import WeiboConnector
from connectors.weibo.errors import (
    WeiboAPIError,
    WeiboAuthError,
    WeiboBadResponseError,
    WeiboConnectionError,
    WeiboContentError,
    WeiboDuplicateError,
    WeiboError,
    WeiboNoResponseError,
    WeiboPending,
    WeiboRateLimitError,
)
from connectors.weibo.render import render_post

__all__ = [
    "WeiboAPIError",
    "WeiboAuthError",
    "WeiboBadResponseError",
    "WeiboClient",
    "WeiboConnectionError",
    "WeiboConnector",
    "WeiboContentError",
    "WeiboDuplicateError",
    "WeiboError",
    "WeiboNoResponseError",
    "WeiboPending",
    "WeiboRateLimitError",
    "render_post",
]
