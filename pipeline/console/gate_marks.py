"""Content-gate findings shown in place: the checked text cut into plain and marked pieces, so the
page can highlight each hit where it stands (offsets as `pipeline.gates.findings` defines them)."""

from dataclasses import dataclass

from pipeline.config import Settings
from pipeline.gates import GateConfig, check_item
from pipeline.gates.findings import Finding
from pipeline.gates.html_text import extract_body
from pipeline.store.models import ItemRevision


@dataclass
class Piece:
    text: str
    finding: Finding | None = None


@dataclass
class MarkedField:
    field: str
    pieces: list[Piece]
    findings: list[Finding]


def revision_findings(revision: ItemRevision, settings: Settings) -> list[Finding]:
    return check_item(revision.title, revision.summary, revision.body_html, GateConfig.from_settings(settings))


def mark(text: str, findings: list[Finding]) -> list[Piece]:
    """`text` in pieces; overlapping findings are merged into the first one's mark."""
    pieces, at = [], 0
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        start, end = max(f.start, at), min(f.end, len(text))
        if start > at:
            pieces.append(Piece(text[at:start]))
        if end > start:
            pieces.append(Piece(text[start:end], f))
            at = end
        elif f.start >= at:  # an empty span (an image's link): a marker where it stands
            pieces.append(Piece("", f))
    if at < len(text):
        pieces.append(Piece(text[at:]))
    return pieces


def marked_fields(revision: ItemRevision, findings: list[Finding]) -> list[MarkedField]:
    """Title, summary and body plain text with their findings marked; fields without any are left out."""
    texts = {"title": revision.title, "summary": revision.summary or "", "body": extract_body(revision.body_html).text}
    out = []
    for name, text in texts.items():
        own = [f for f in findings if f.field == name]
        if own:
            out.append(MarkedField(name, mark(text, own), own))
    return out
