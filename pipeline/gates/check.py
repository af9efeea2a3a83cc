"""The content gates run on submit and at sign-off: one call, all rules, all three fields."""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline.config import Settings
from pipeline.gates.advertising import (
    DEFAULT_AD_PHRASES_FILE,
    find_ad_phrases,
    find_external_links,
    find_urls,
    normalize_domains,
)
from pipeline.gates.findings import FieldName, Finding, sort_key
from pipeline.gates.html_text import Link, extract_body
from pipeline.gates.personal_data import find_personal_data
from pipeline.gates.sensitive_words import (
    DEFAULT_WORDS_FILE,
    SensitiveWordMatcher,
    find_sensitive_words,
    load_words,
)


@lru_cache(maxsize=8)
def _matcher(path: Path, mtime_ns: int) -> SensitiveWordMatcher:
    return SensitiveWordMatcher(load_words(path))


def load_matcher(path: Path | str) -> SensitiveWordMatcher:
    """A matcher for a word-list file, built once and rebuilt only when the file changes."""
    resolved = Path(path).resolve()
    return _matcher(resolved, resolved.stat().st_mtime_ns)


@dataclass(frozen=True)
class GateConfig:
    words: SensitiveWordMatcher
    ad_phrases: SensitiveWordMatcher
    allowed_domains: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> "GateConfig":
        """Dictionary from `CK_SENSITIVE_WORDS_FILE` (the packaged list if unset); a missing
        configured file raises FileNotFoundError rather than silently disabling the gate."""
        return cls(
            words=load_matcher(settings.sensitive_words_file or DEFAULT_WORDS_FILE),
            ad_phrases=load_matcher(DEFAULT_AD_PHRASES_FILE),
            allowed_domains=normalize_domains(settings.allowed_link_domains),
        )


def _check_text(
    text: str, field: FieldName, config: GateConfig, links: tuple[Link, ...] = ()
) -> list[Finding]:
    findings = find_sensitive_words(text, field, config.words)
    findings += find_ad_phrases(text, field, config.ad_phrases)
    findings += find_external_links(text, field, config.allowed_domains, links)
    # A 16-19 digit run inside a URL is a page or document id far more often than a bank card.
    url_spans = find_urls(text)
    findings += [
        f
        for f in find_personal_data(text, field)
        if not (f.rule == "bank_card" and any(s <= f.start and f.end <= e for s, e in url_spans))
    ]
    return findings


def check_item(title: str, summary: str, body_html: str, config: GateConfig) -> list[Finding]:
    """Every gate finding for one item, sorted by field (title, summary, body) then position.

    Body offsets refer to `extract_body(body_html).text`. An empty list means the item may proceed.
    """
    body = extract_body(body_html)
    findings = _check_text(title, "title", config)
    findings += _check_text(summary, "summary", config)
    findings += _check_text(body.text, "body", config, body.links)
    return sorted(findings, key=sort_key)
