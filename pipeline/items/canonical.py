"""The canonical portal URL, fixed when an item is first signed off so every channel can link to it
at the same moment (Weibo needs that link). The hook `portal_site_for` is replaced by the channel
registry once it exists; until then the unit's code names its portal site."""

from datetime import datetime

from sqlmodel import Session

from connectors.portal.urls import article_url
from pipeline.clock import local
from pipeline.config import Settings
from pipeline.store.models import Item, ItemRevision, Unit

DEFAULT_COLUMN = "news"


def canonical_url_for(session: Session, item: Item, revision: ItemRevision, published_at: datetime,
                      settings: Settings) -> str:
    unit = session.get(Unit, item.unit_id)
    site, default_column = portal_site_for(session, unit)
    column = revision.columns[0] if revision.columns else default_column
    return article_url(settings.public_base_url, site, column, local(published_at), item.id)


def portal_site_for(session: Session, unit: Unit) -> tuple[str, str]:
    return unit.code, DEFAULT_COLUMN
