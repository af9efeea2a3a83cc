"""Writing and revising items, the item page, channel previews, submitting, takedown and image upload.
Every change goes through the same service functions as the REST API."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session, select

from pipeline.api.deps import RowId
from pipeline.api.deps import SessionDep, SettingsDep
from pipeline.audit import entries
from pipeline.clock import local
from pipeline.config import Settings
from pipeline.console import labels
from pipeline.console.forms import read_fields, to_create, to_update
from pipeline.console.gate_marks import marked_fields
from pipeline.console.pages import PREFIX, ConsoleRoute, redirect, render
from pipeline.console.previews import channel_previews, live_weibo
from pipeline.console.sessions import CheckedForm, ConsoleUser, flash
from pipeline.distribution.takedown import take_down
from pipeline.errors import CKError, GateRefused, Invalid
from pipeline.items.public import item_public
from pipeline.items.service import (
    REVISABLE,
    create_item,
    get_item,
    get_revision,
    list_items,
    revise_item,
)
from pipeline.media.upload import MAX_IMAGE_BYTES, store_image
from pipeline.org.roles import TAKEDOWN_ROLES, WRITERS
from pipeline.org.units import ancestors
from pipeline.review import workflow
from pipeline.store.media_files import MediaFiles
from pipeline.store.models import ChannelTarget, Delivery, Item, Unit, User
from schemas.api import ItemPublic, TakedownRequest
from schemas.delivery import Channel

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

FORM_KEYS = ["title", "subtitle", "summary", "body", "kind", "doc_no", "written_date", "keywords", "topic_category",
             "cover", "interprets", "publish_at", "correction_note"]


# -- what the editor offers -----------------------------------------------------------------------------

def _unit_targets(session: Session, unit: Unit) -> list[ChannelTarget]:
    """The unit's own channels first, then its parents' (a district may also go to the city's feed)."""
    units = [unit.id] + [u.id for u in ancestors(session, unit)]
    rows = session.exec(select(ChannelTarget).where(ChannelTarget.unit_id.in_(units),
                                                    ChannelTarget.status == "active")).all()
    order = list(Channel)
    return sorted(rows, key=lambda t: (units.index(t.unit_id), order.index(t.channel), t.id))


def _default_targets(session: Session, unit: Unit) -> list[str]:
    return [t.code for t in _unit_targets(session, unit) if t.unit_id == unit.id and t.is_default]


def _columns(targets: list[ChannelTarget]) -> dict[str, str]:
    columns: dict[str, str] = {}
    for t in targets:
        if t.channel == Channel.portal:
            for code, name in (t.config.get("columns") or {}).items():
                columns.setdefault(code, name)
    return columns


def _form_values(item: ItemPublic | None) -> dict:
    if item is None:
        return {"kind": "news", "keywords": "", "columns": [], "targets": None}
    return {
        "title": item.title, "subtitle": item.subtitle, "summary": item.summary, "body": item.body,
        "kind": item.kind.value, "doc_no": item.doc_no,
        "written_date": item.written_date.isoformat() if item.written_date else "",
        "keywords": "、".join(item.keywords), "topic_category": item.topic_category, "cover": item.cover,
        "interprets": item.interprets, "columns": item.columns, "targets": item.targets,
        "publish_at": local(item.publish_at).strftime("%Y-%m-%dT%H:%M") if item.publish_at else "",
    }


def _posted_values(form) -> dict:
    values = {key: form.get(key) for key in FORM_KEYS}
    values["columns"] = form.getlist("columns")
    values["targets"] = form.getlist("targets")
    interprets = values.get("interprets") or ""
    values["interprets"] = int(interprets) if str(interprets).isdigit() else None
    return values


def _editor(request: Request, session: Session, user: User, settings: Settings, unit: Unit,
            item: ItemPublic | None, values: dict, error: CKError | None = None):
    targets = _unit_targets(session, unit)
    defaults = _default_targets(session, unit)
    chosen = values.get("targets") or defaults
    policies = session.exec(select(Item).where(Item.kind == "policy").order_by(Item.id.desc()).limit(100)).all()
    return render(request, "editor.html", status_code=error.status if error else 200, item=item, v=values,
                  unit=unit, targets=targets, chosen_targets=chosen, columns=_columns(targets),
                  policies=[(p.id, get_revision(session, p).title) for p in policies if not item or p.id != item.id],
                  error=error, max_image_mb=MAX_IMAGE_BYTES // (1024 * 1024),
                  published=bool(item and item.published_revision))


# -- pages -----------------------------------------------------------------------------------------

@router.get("/")
def home(user: ConsoleUser):
    if user.role in ("reviewer", "signer"):
        return redirect(f"{PREFIX}/review")
    if user.role == "admin":
        return redirect(f"{PREFIX}/board")
    return redirect(f"{PREFIX}/items")


@router.get("/items")
def items_index(request: Request, session: SessionDep, settings: SettingsDep, user: ConsoleUser,
                status: str | None = None):
    status = status if status in labels.ITEM_STATUS else None
    rows = [item_public(session, i, settings) for i in list_items(session, status=status, limit=100)]
    return render(request, "items.html", items=rows, status=status)


@router.get("/items/new")
def new_item(request: Request, session: SessionDep, settings: SettingsDep, user: ConsoleUser):
    return _editor(request, session, user, settings, session.get(Unit, user.unit_id), None, _form_values(None))


@router.post("/items/new")
def create(request: Request, session: SessionDep, settings: SettingsDep, user: ConsoleUser, form: CheckedForm):
    unit = session.get(Unit, user.unit_id)
    try:
        item = create_item(session, user, to_create(read_fields(form, _default_targets(session, unit))), settings)
        session.commit()
    except CKError as exc:
        session.rollback()
        return _editor(request, session, user, settings, unit, None, _posted_values(form), exc)
    flash(request, f"已保存草稿：{get_revision(session, item).title}")
    return redirect(f"{PREFIX}/items/{item.id}")


@router.get("/items/{item_id}")
def show(request: Request, item_id: RowId, session: SessionDep, settings: SettingsDep, user: ConsoleUser):
    return _item_page(request, session, settings, user, get_item(session, item_id))


def _item_page(request: Request, session: Session, settings: Settings, user: User, item: Item,
               error: CKError | None = None, status_code: int = 200):
    public = item_public(session, item, settings)
    rows = session.exec(select(Delivery).where(Delivery.item_id == item.id).order_by(Delivery.id)).all()
    actors = {u.id: u for u in session.exec(select(User))}
    findings = marked_fields(get_revision(session, item), error.findings) if isinstance(error, GateRefused) else []
    return render(request, "item.html", status_code=status_code, item=public, deliveries=rows,
                  audit=entries(session, item.id), actors=actors, error=error, findings=findings,
                  can_edit=user.role in WRITERS and item.status in REVISABLE,
                  can_submit=user.role in WRITERS and item.status == "draft",
                  can_take_down=user.role in TAKEDOWN_ROLES and item.status != "withdrawn"
                  and bool(item.published_revision or item.approved_revision))


@router.get("/items/{item_id}/edit")
def edit(request: Request, item_id: RowId, session: SessionDep, settings: SettingsDep, user: ConsoleUser):
    item = get_item(session, item_id)
    public = item_public(session, item, settings)
    return _editor(request, session, user, settings, session.get(Unit, item.unit_id), public, _form_values(public))


@router.post("/items/{item_id}/edit")
def revise(request: Request, item_id: RowId, session: SessionDep, settings: SettingsDep, user: ConsoleUser,
           form: CheckedForm):
    item = get_item(session, item_id)
    unit = session.get(Unit, item.unit_id)
    public = item_public(session, item, settings)
    try:
        revise_item(session, user, item_id, to_update(read_fields(form, _default_targets(session, unit)), public),
                    settings)
        session.commit()
    except CKError as exc:
        session.rollback()
        return _editor(request, session, user, settings, unit, public, _posted_values(form), exc)
    flash(request, "已保存修改（新的修订版本，需重新提交审核）")
    return redirect(f"{PREFIX}/items/{item_id}")


@router.get("/items/{item_id}/preview")
def preview(request: Request, item_id: RowId, session: SessionDep, settings: SettingsDep, user: ConsoleUser):
    item = get_item(session, item_id)
    revision = get_revision(session, item)
    return render(request, "preview.html", item=item_public(session, item, settings),
                  previews=channel_previews(session, item, revision, settings),
                  can_submit=user.role in WRITERS and item.status == "draft")


@router.post("/items/{item_id}/submit")
def submit(request: Request, item_id: RowId, session: SessionDep, settings: SettingsDep, user: ConsoleUser,
           _: CheckedForm):
    try:
        workflow.submit(session, user, item_id, settings)
        session.commit()
    except CKError as exc:
        session.rollback()
        return _item_page(request, session, settings, user, get_item(session, item_id), exc, exc.status)
    flash(request, "已提交审核，等待初审")
    return redirect(f"{PREFIX}/items/{item_id}")


@router.post("/items/{item_id}/takedown")
def takedown(request: Request, item_id: RowId, session: SessionDep, settings: SettingsDep, user: ConsoleUser,
             form: CheckedForm):
    try:
        if form.get("confirm") != "yes":
            raise Invalid("请勾选确认：撤稿会从所有渠道撤下该稿件")
        reason = str(form.get("reason") or "").strip()
        if len(reason) < 2:
            raise Invalid("请填写撤稿理由（至少两个字）")
        take_down(session, user, item_id, TakedownRequest(reason=reason).reason, settings)
        session.commit()
    except CKError as exc:
        session.rollback()
        return _item_page(request, session, settings, user, get_item(session, item_id), exc, exc.status)
    flash(request, "已撤稿：正在从所有渠道撤下")
    return redirect(f"{PREFIX}/items/{item_id}")


# -- the editor's scripts ----------------------------------------------------------------------------

@router.post("/media")
def upload(session: SessionDep, settings: SettingsDep, user: ConsoleUser, form: CheckedForm):
    """The same `store_image` as `POST /api/v1/media`, behind the console's session and CSRF check."""
    file = form.get("file")
    if file is None or isinstance(file, str):
        raise Invalid("请选择一张图片")
    data = file.file.read(MAX_IMAGE_BYTES + 1)
    media = store_image(session, MediaFiles(settings.media_dir), user, data, file.filename)
    session.commit()
    return JSONResponse({"sha256": media.sha256, "url": f"/media/{media.sha256}", "width": media.width,
                         "height": media.height}, status_code=201)


@router.post("/preview/weibo")
def weibo_count(session: SessionDep, settings: SettingsDep, user: ConsoleUser, form: CheckedForm) -> dict:
    item_id = str(form.get("item") or "")
    item = get_item(session, int(item_id)) if item_id.isdigit() else None
    unit = session.get(Unit, item.unit_id if item else user.unit_id)
    fields = {k: str(form.get(k) or "") for k in ("title", "summary", "body", "kind")}
    fields["columns"] = form.getlist("columns")
    text = live_weibo(session, unit, item, fields, form.getlist("targets"), settings)
    return {"text": text.text, "length": text.length, "limit": text.limit, "fits": text.fits}
