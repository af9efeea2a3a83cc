"""The editor form ↔ the API's `ItemCreate` / `ItemUpdate`: the console writes items through the very
same models and service functions as the REST API, so every rule applies once."""

import re
from datetime import date, datetime

from pydantic import ValidationError
from starlette.datastructures import FormData

from pipeline.clock import NEWSROOM_TZ, local
from pipeline.errors import Invalid
from schemas.api import ItemCreate, ItemPublic, ItemUpdate

TEXT_FIELDS = ["title", "subtitle", "summary", "body", "doc_no", "topic_category", "cover", "correction_note"]
_SPLIT = re.compile(r"[,，、;；\s]+")
_FIELD_NAMES = {"title": "标题", "subtitle": "副标题", "summary": "摘要", "body": "正文", "kind": "类型",
                "doc_no": "文号", "written_date": "成文日期", "keywords": "主题词", "topic_category": "主题分类",
                "columns": "栏目", "targets": "发布渠道", "cover": "封面", "interprets": "解读的政策文件",
                "publish_at": "定时发布", "correction_note": "更正说明"}


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise Invalid(f"成文日期“{value}”不是有效日期（年-月-日）") from None


def _moment(value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f"定时发布时间“{value}”无效") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=NEWSROOM_TZ)


def _text(form: FormData, name: str) -> str | None:
    """A text field as the browser sent it, with its CRLF line ends (every textarea's) made LF again."""
    value = form.get(name)
    return (value.replace("\r\n", "\n").strip() or None) if isinstance(value, str) else None


def read_fields(form: FormData, default_targets: list[str]) -> dict:
    """Everything the form says, as `ItemFields` values (blank → None). Choosing exactly the unit's
    default channels stores no explicit targets, so later changes to the defaults still apply."""
    values: dict = {name: _text(form, name) for name in TEXT_FIELDS}
    values["kind"] = form.get("kind") or None
    values["written_date"] = _date((form.get("written_date") or "").strip())
    values["publish_at"] = _moment((form.get("publish_at") or "").strip())
    values["keywords"] = [k for k in _SPLIT.split(form.get("keywords") or "") if k]
    values["columns"] = [c for c in form.getlist("columns") if c]
    targets = [t for t in form.getlist("targets") if t]
    if not targets:
        raise Invalid("请至少选择一个发布渠道")
    values["targets"] = None if sorted(targets) == sorted(default_targets) else targets
    interprets = (form.get("interprets") or "").strip()
    values["interprets"] = int(interprets) if interprets.isdigit() else None
    if values["kind"] != "interpretation":
        values["interprets"] = None
    return values


def _explain(exc: ValidationError) -> Invalid:
    parts = []
    for error in exc.errors():
        name = next((str(p) for p in error.get("loc", ()) if str(p) in _FIELD_NAMES), "")
        parts.append(f"{_FIELD_NAMES.get(name, name)}：{error.get('msg')}" if name else str(error.get("msg")))
    return Invalid("；".join(parts))


def to_create(values: dict) -> ItemCreate:
    data = {k: v for k, v in values.items() if v not in (None, [], "") and k != "correction_note"}
    try:
        return ItemCreate(**data)
    except ValidationError as exc:
        raise _explain(exc) from None


def to_update(values: dict, current: ItemPublic) -> ItemUpdate:
    """Only what differs from the current revision (an unchanged form is "nothing changed")."""
    now_values = {
        "title": current.title, "subtitle": current.subtitle, "summary": current.summary or None,
        "body": current.body, "kind": current.kind.value, "doc_no": current.doc_no,
        "topic_category": current.topic_category, "cover": current.cover, "correction_note": None,
        "written_date": current.written_date, "publish_at": current.publish_at,
        "keywords": current.keywords, "columns": current.columns, "targets": current.targets,
        "interprets": current.interprets,
    }
    changes = {}
    for key, value in values.items():
        before = now_values.get(key)
        if key == "publish_at" and value and before:
            same = local(value).replace(second=0, microsecond=0) == local(before).replace(second=0, microsecond=0)
        else:
            same = value == before or (value in (None, []) and before in (None, [], ""))
        if not same:
            changes[key] = value
    if not changes:
        raise Invalid("没有任何修改")
    if "body" in changes and changes["body"] is None:
        raise Invalid("正文不能为空")
    if "title" in changes and changes["title"] is None:
        raise Invalid("标题不能为空")
    try:
        return ItemUpdate(**changes)
    except ValidationError as exc:
        raise _explain(exc) from None
