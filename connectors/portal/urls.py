"""The portal URL scheme. The canonical URL of an item is fixed at sign-off with `article_path`,
so every channel can link to the portal page at the same moment (TRS-style paths)."""

from datetime import datetime


def article_path(site: str, column: str, published_at: datetime, item_id: int) -> str:
    """`/sites/{site}/{column}/{YYYYMM}/t{YYYYMMDD}_{id}.html`"""
    return f"/sites/{site}/{column}/{published_at:%Y%m}/t{published_at:%Y%m%d}_{item_id}.html"


def article_url(base_url: str, site: str, column: str, published_at: datetime, item_id: int) -> str:
    return base_url.rstrip("/") + article_path(site, column, published_at, item_id)
