"""The canonical portal URL, fixed when an item is first signed off so every channel can link to it
at the same moment (Weibo needs that link): the unit's own portal site, the item's first column."""

from datetime import datetime

from sqlmodel import Session

from connectors.portal.urls import article_url
from pipeline.clock import local
from pipeline.config import Settings
from pipeline.registry.targets import home_portal
from pipeline.store.models import Item, ItemRevision, Unit

DEFAULT_COLUMN = "news"


def canonical_url_for(session: Session, item: Item, revision: ItemRevision, published_at: datetime,
                      settings: Settings) -> str:
    unit = session.get(Unit, item.unit_id)
    site = home_portal(session, unit)
    site_code = site.code if site else unit.code
    columns = site.config.get("columns", {}) if site else {}
    own = [c for c in revision.columns if not columns or c in columns]
    column = own[0] if own else (site.config.get("default_column") if site else None) or DEFAULT_COLUMN
    return article_url(settings.public_base_url, site_code, column, local(published_at), item.id)
