"""The difference between two revisions, as reviewers read it: field by field, the body line by line
(one line per block element), and within a changed line character by character (Chinese has no
spaces to split words on). difflib does the work."""

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from pipeline.store.models import ItemRevision

CONTEXT = 2  # unchanged body lines shown around a change
INLINE_LIMIT = 3000  # longer changed lines are shown whole, not character by character

_BLOCK_END = re.compile(r"(</(?:p|h[1-6]|li|blockquote|figure|figcaption|table|tr|ul|ol)>|<br\s*/?>|<hr\s*/?>)",
                        re.IGNORECASE)


@dataclass
class Line:
    kind: str  # same · del · ins · mod · gap
    segments: list[tuple[str, str]] = field(default_factory=list)  # (same|del|ins, text)


@dataclass
class FieldDiff:
    label: str
    lines: list[Line]


def _fields(rev: ItemRevision) -> list[tuple[str, str]]:
    return [
        ("标题", rev.title), ("副标题", rev.subtitle or ""), ("摘要", rev.summary or ""),
        ("发布机构", rev.issuer or ""), ("文号", rev.doc_no or ""),
        ("成文日期", rev.written_date.isoformat() if rev.written_date else ""),
        ("主题词", "、".join(rev.keywords or [])), ("主题分类", rev.topic_category or ""),
        ("栏目", "、".join(rev.columns or [])), ("发布渠道", "、".join(rev.targets or []) or "本单位默认渠道"),
        ("封面", rev.cover or ""), ("更正说明", rev.correction_note or ""),
    ]


def body_lines(body_html: str) -> list[str]:
    return [line.strip() for line in _BLOCK_END.sub(r"\1\n", body_html).split("\n") if line.strip()]


def _inline(old: str, new: str) -> list[tuple[str, str]]:
    if len(old) + len(new) > INLINE_LIMIT:
        return [("del", old), ("ins", new)]
    segments = []
    for op, a1, a2, b1, b2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            segments.append(("same", old[a1:a2]))
        if op in ("delete", "replace"):
            segments.append(("del", old[a1:a2]))
        if op in ("insert", "replace"):
            segments.append(("ins", new[b1:b2]))
    return segments


def _lines(old: list[str], new: list[str], context: int | None) -> list[Line]:
    out: list[Line] = []
    for op, a1, a2, b1, b2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            same = [Line("same", [("same", s)]) for s in old[a1:a2]]
            if context is not None and len(same) > 2 * context + 1:
                head = same[:context] if out else []
                tail = same[-context:] if a2 < len(old) or b2 < len(new) else []
                same = [*head, Line("gap", [("same", f"…… {len(same) - len(head) - len(tail)} 行未改动 ……")]), *tail]
            out += same
        elif op == "replace":
            pairs = min(a2 - a1, b2 - b1)
            out += [Line("mod", _inline(old[a1 + i], new[b1 + i])) for i in range(pairs)]
            out += [Line("del", [("del", s)]) for s in old[a1 + pairs:a2]]
            out += [Line("ins", [("ins", s)]) for s in new[b1 + pairs:b2]]
        elif op == "delete":
            out += [Line("del", [("del", s)]) for s in old[a1:a2]]
        elif op == "insert":
            out += [Line("ins", [("ins", s)]) for s in new[b1:b2]]
    return out


def revision_diff(old: ItemRevision, new: ItemRevision) -> list[FieldDiff]:
    """Only the fields that changed; an empty list means the two revisions read the same."""
    diffs = []
    for (label, before), (_, after) in zip(_fields(old), _fields(new), strict=True):
        if before != after:
            diffs.append(FieldDiff(label, [Line("mod", _inline(before, after))]))
    if old.body_html != new.body_html:
        diffs.append(FieldDiff("正文", _lines(body_lines(old.body_html), body_lines(new.body_html), CONTEXT)))
    return diffs
