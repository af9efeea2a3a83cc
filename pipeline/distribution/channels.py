"""The four connectors and the runtime `Target` each receives: the registry's row plus what only
this deployment knows (where the site folders live, the public base URL)."""

from connectors.appfeed.connector import AppFeedConnector
from connectors.base import Connector
from connectors.portal.connector import PortalConnector
from connectors.wechat.connector import WeChatConnector
from connectors.weibo.connector import WeiboConnector
from pipeline.clock import aware
from pipeline.config import Settings
from pipeline.governance.credentials import reveal
from pipeline.governance.token_health import GuardedConnector
from pipeline.store.media_files import MediaFiles
from pipeline.store.models import ChannelTarget
from schemas.delivery import Channel, Target
from schemas.item import ItemSnapshot


def build_connectors(settings: Settings) -> dict[Channel, Connector]:
    """Each connector behind the registry: target status and token health (`GuardedConnector`)."""
    media = MediaFiles(settings.media_dir)
    return {
        Channel.portal: GuardedConnector(PortalConnector(media)),
        Channel.wechat: GuardedConnector(WeChatConnector(media)),
        Channel.weibo: GuardedConnector(WeiboConnector(media)),
        Channel.appfeed: GuardedConnector(AppFeedConnector(media)),
    }


def runtime_target(row: ChannelTarget, item: ItemSnapshot, settings: Settings) -> Target:
    config = reveal(row, settings)  # the sealed credentials, opened for this call only
    columns: list[str] = []
    if row.channel == Channel.portal:
        config.setdefault("output_dir", str(settings.sites_dir))
        config.setdefault("base_url", settings.public_base_url)
        config.setdefault("site_name", row.name)
        site_columns = config.get("columns") or {}
        columns = [c for c in item.columns if c in site_columns] if site_columns else list(item.columns)
    elif row.channel == Channel.appfeed:
        config.setdefault("feeds_dir", str(settings.feeds_dir))
        config.setdefault("base_url", settings.public_base_url)
        config.setdefault("title", row.name)
    return Target(channel=Channel(row.channel), code=row.code, name=row.name, columns=columns, config=config,
                  registry=(row.status, row.health, row.health_reason, aware(row.health_since)))
