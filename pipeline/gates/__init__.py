"""Content gates (内容把关): pure checks run before an item may proceed in review.

A hit blocks the review step; each `Finding` names the rule, the field, the matched text and its
character offsets. Word lists live in `pipeline/gates/data/` (one entry a line, `#` comments) and
ship as package data through the `*.txt` pattern in pyproject.toml; keep new data files there.
"""

from pipeline.gates.advertising import (
    DEFAULT_AD_PHRASES_FILE,
    external_host,
    find_ad_phrases,
    find_external_links,
    find_urls,
    is_allowed_host,
    normalize_domains,
)
from pipeline.gates.check import GateConfig, check_item, load_matcher
from pipeline.gates.findings import FieldName, Finding, LinkAttribute, Rule
from pipeline.gates.html_text import BodyText, Link, extract_body
from pipeline.gates.personal_data import find_personal_data, is_valid_id_number, luhn_ok
from pipeline.gates.sensitive_words import (
    DEFAULT_WORDS_FILE,
    SensitiveWordMatcher,
    find_sensitive_words,
    load_words,
)

__all__ = [
    "DEFAULT_AD_PHRASES_FILE",
    "DEFAULT_WORDS_FILE",
    "BodyText",
    "FieldName",
    "Finding",
    "GateConfig",
    "Link",
    "LinkAttribute",
    "Rule",
    "SensitiveWordMatcher",
    "check_item",
    "external_host",
    "extract_body",
    "find_ad_phrases",
    "find_external_links",
    "find_personal_data",
    "find_sensitive_words",
    "find_urls",
    "is_allowed_host",
    "is_valid_id_number",
    "load_matcher",
    "load_words",
    "luhn_ok",
    "normalize_domains",
]
