"""What each channel will show for a revision, before anyone signs it off: the portal page, the WeChat
article, the Weibo text with its length against the account's limit, and the feed entry.

The real renderers do the work (the same code the channel agents run). A draft has no canonical URL
yet (it is fixed at sign-off), so previews use the URL it would get if signed off now."""

import json
from dataclasses import dataclass, field

from sqlmodel import Session, select

from connectors.appfeed.jsonfeed import render_item
from connectors.base import ConnectorError
from connectors.portal.connector import PortalConnector
from connectors.portal.urls import article_url
from connectors.wechat.render import render_article
from connectors.weibo.render import DEFAULT_MAX_CHARS, DEFAULT_URL_WEIGHT, render_post, weibo_length
from pipeline.clock import local, now
from pipeline.config import Settings
from pipeline.distribution.channels import runtime_target
from pipeline.items.canonical import DEFAULT_COLUMN, canonical_url_for
from pipeline.items.sanitize import clean_body, plain_text
from pipeline.items.service import get_revision
from pipeline.items.snapshot import build_snapshot
from pipeline.registry.targets import home_portal, targets_for
from pipeline.store.media_files import MediaFiles
from pipeline.store.models import ChannelTarget, Item, ItemRevision, Unit
from schemas.delivery import Channel
from schemas.item import ItemKind, ItemSnapshot, UnitRef


@dataclass
class WeiboText:
    text: str
    length: int
    limit: int
    url_weight: int
    pic: str | None = None

    @property
    def fits(self) -> bool:
        return self.length <= self.limit


@dataclass
class Preview:
    channel: str
    target: str
    name: str
    error: str | None = None
    url: str | None = None
    html: str | None = None  # portal page, WeChat article body
    title: str | None = None
    author: str | None = None
    digest: str | None = None
    weibo: WeiboText | None = None
    entry: str | None = None  # the feed entry, as pretty JSON
    extra: dict = field(default_factory=dict)


def draft_snapshot(session: Session, item: Item, revision: ItemRevision, settings: Settings) -> ItemSnapshot:
    snapshot = build_snapshot(session, item, revision)
    if snapshot.canonical_url:
        return snapshot
    return snapshot.model_copy(update={"canonical_url": canonical_url_for(session, item, revision, now(), settings)})


def weibo_text(snapshot: ItemSnapshot, config: dict) -> WeiboText:
    limit = int(config.get("max_chars", DEFAULT_MAX_CHARS))
    weight = int(config.get("url_weight", DEFAULT_URL_WEIGHT))
    post = render_post(snapshot, max_chars=limit, url_weight=weight)
    return WeiboText(text=post["status"], length=weibo_length(post["status"], weight), limit=limit,
                     url_weight=weight, pic=post["pic_sha256"])


def channel_previews(session: Session, item: Item, revision: ItemRevision, settings: Settings) -> list[Preview]:
    snapshot = draft_snapshot(session, item, revision, settings)
    previews = []
    for row in sorted(targets_for(session, item, revision), key=lambda t: (list(Channel).index(t.channel), t.code)):
        preview = Preview(channel=row.channel, target=row.code, name=row.name)
        try:
            _fill(preview, row, snapshot, settings)
        except (ConnectorError, ValueError) as exc:
            preview.error = str(exc)
        previews.append(preview)
    return previews


def _fill(preview: Preview, row: ChannelTarget, snapshot: ItemSnapshot, settings: Settings) -> None:
    target = runtime_target(row, snapshot, settings)
    if row.channel == Channel.portal:
        page = PortalConnector(MediaFiles(settings.media_dir)).render(snapshot, target)
        preview.url, preview.html = page.url, page.html
    elif row.channel == Channel.wechat:
        article = render_article(snapshot)
        preview.title, preview.author, preview.digest = article.title, article.author, article.digest
        preview.html, preview.url = article.content, article.content_source_url
    elif row.channel == Channel.weibo:
        preview.weibo = weibo_text(snapshot, target.config)
        preview.url = snapshot.canonical_url
    elif row.channel == Channel.appfeed:
        entry = render_item(snapshot, target.config.get("base_url") or settings.public_base_url)
        preview.entry = json.dumps(entry, ensure_ascii=False, indent=2)
        preview.url = entry.get("url")


def live_weibo(session: Session, unit: Unit, item: Item | None, fields: dict, targets: list[str],
               settings: Settings) -> WeiboText:
    """The Weibo text for what the editor has typed so far (nothing saved): title, summary, body, kind
    and, for a new item, the columns that decide its future URL."""
    if item is not None:
        base = draft_snapshot(session, item, get_revision(session, item), settings)
    else:
        site = home_portal(session, unit)
        moment = now()
        site_columns = (site.config.get("columns") or {}) if site else {}
        chosen = [c for c in fields.get("columns") or [] if c in site_columns]
        column = chosen[0] if chosen else (site.config.get("default_column") if site else None) or DEFAULT_COLUMN
        base = ItemSnapshot(id=0, revision=1, kind=ItemKind.news, title="-", body_html="<p>-</p>",
                            unit=UnitRef(code=unit.code, name=unit.name), issuer=unit.name, index_no="",
                            published_at=moment, updated_at=moment,
                            canonical_url=article_url(settings.public_base_url, site.code if site else unit.code,
                                                      column, local(moment), 0))
    kind = fields.get("kind")
    snapshot = base.model_copy(update={
        "title": plain_text(fields.get("title") or "") or base.title,
        "summary": plain_text(fields.get("summary") or ""),
        "body_html": clean_body(fields.get("body") or ""),
        "kind": ItemKind(kind) if kind in ItemKind.__members__ else base.kind,
    })
    query = select(ChannelTarget).where(ChannelTarget.channel == Channel.weibo, ChannelTarget.status == "active")
    query = query.where(ChannelTarget.code.in_(targets)) if targets else query.where(ChannelTarget.unit_id == unit.id)
    account = session.exec(query.order_by(ChannelTarget.id)).first()
    return weibo_text(snapshot, account.config if account else {})
