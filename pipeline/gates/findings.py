"""What a content gate reports: one `Finding` per hit, enough for an editor to locate and fix it.

Offsets are character offsets (Python `str` indices, not bytes):

* title / summary: into the field's plain text as submitted;
* body: into `extract_body(body_html).text`, the plain text the gates scan (see `html_text`).

For every finding with `attribute is None`, `field_text[start:end] == text`.

A link found in an HTML attribute (`<a href>`, `<img src>` …) has `attribute` set to that
attribute's name and `text` set to the URL as written. Its `start:end` is the span of the
element's visible text in the body plain text (the anchor text of an `<a>`; an empty span at
the element's position for `<img>`), so it sorts in document order and a UI can highlight
the text that carries the link.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Rule = Literal["sensitive_word", "id_card", "mobile", "bank_card", "external_link", "ad_phrase"]
FieldName = Literal["title", "summary", "body"]
LinkAttribute = Literal["href", "src"]

FIELD_ORDER: dict[str, int] = {"title": 0, "summary": 1, "body": 2}


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: Rule
    field: FieldName
    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    message: str
    attribute: LinkAttribute | None = None


def sort_key(finding: Finding) -> tuple[int, int, int, str]:
    """Field order (title, summary, body), then position, then rule name for a stable order."""
    return (FIELD_ORDER[finding.field], finding.start, finding.end, finding.rule)
