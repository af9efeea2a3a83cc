"""Advertising gates: links to domains outside the allowlist, and advertising phrases.

An allowlist entry allows the domain and all its subdomains: "gov.cn" allows "www.cq.gov.cn"
but not "gov.cn.example.com" or "evilgov.cn". Hosts are read the way a browser would (userinfo,
ports, backslashes, stray tabs/newlines and extra slashes after the scheme do not hide the real
host), and anything that cannot be parsed is reported, so the check fails closed. Links without a
host — relative paths, `#anchors`, `mailto:`, `tel:` — are not external links.

Bare URLs are found in text when they start with http://, https:// or www. (full-width forms
included); URLs in `<a href>`, `<img src>` and similar come from `html_text.extract_body`.
"""

import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from pipeline.gates.findings import FieldName, Finding
from pipeline.gates.folding import fold
from pipeline.gates.html_text import Link
from pipeline.gates.sensitive_words import DATA_DIR, SensitiveWordMatcher

DEFAULT_AD_PHRASES_FILE = DATA_DIR / "ad_phrases.txt"

_URL_RE = re.compile(r"(?<![a-z0-9.\-@/])(?:https?://|www\.)[a-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_TRAILING_PUNCTUATION = ".,;:!?'\""
_HOST_SCHEMES = ("http", "https", "ftp", "ws", "wss")
_INVISIBLE = re.compile(r"[\t\n\r]")
_IDEOGRAPHIC_DOTS = str.maketrans({"\u3002": ".", "\uff61": "."})


def normalize_domains(domains: Iterable[str]) -> tuple[str, ...]:
    """Lower-case allowlist entries; a leading "*." or "." is accepted and dropped."""
    cleaned = (d.strip().lower().removeprefix("*.").strip(".") for d in domains)
    return tuple(d for d in cleaned if d)


def is_allowed_host(host: str, allowed_domains: Sequence[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in allowed_domains)


def external_host(url: str, allowed_domains: Sequence[str]) -> str | None:
    """The host a link leads to if that host is not allowlisted; None for allowed or host-less links.

    An unparseable absolute URL returns the URL itself, so it is reported rather than let through.
    """
    cleaned = _INVISIBLE.sub("", fold(url).strip().translate(_IDEOGRAPHIC_DOTS))
    cleaned = cleaned.replace("\\", "/")
    scheme, sep, rest = cleaned.partition(":")
    if sep and scheme in _HOST_SCHEMES:
        cleaned = f"{scheme}://{rest.lstrip('/')}"
    elif cleaned.startswith("www."):
        cleaned = "http://" + cleaned
    try:
        host = urlsplit(cleaned).hostname
    except ValueError:
        return url
    if not host:
        return None
    host = host.rstrip(".")
    return None if is_allowed_host(host, allowed_domains) else host


def _trimmed_end(url: str) -> int:
    """Length of `url` without trailing sentence punctuation or unbalanced closing brackets."""
    unbalanced = {")": url.count(")") - url.count("("), "]": url.count("]") - url.count("[")}
    end = len(url)
    while end:
        ch = url[end - 1]
        if ch in _TRAILING_PUNCTUATION:
            end -= 1
        elif unbalanced.get(ch, 0) > 0:
            unbalanced[ch] -= 1
            end -= 1
        else:
            break
    return end


def find_urls(text: str) -> list[tuple[int, int]]:
    """Spans of bare URLs (http://, https://, www.) in plain text, trailing punctuation excluded."""
    return [(m.start(), m.start() + _trimmed_end(m.group())) for m in _URL_RE.finditer(fold(text))]


def _link_message(host: str) -> str:
    return f"外部链接“{host}”不在允许的域名内 (link to a domain outside the allowlist)"


def find_external_links(
    text: str,
    field: FieldName,
    allowed_domains: Sequence[str],
    links: Iterable[Link] = (),
) -> list[Finding]:
    """Bare URLs in `text` and attribute `links` (body only) that lead outside the allowlist.

    `<a href="U">U</a>` is one finding, not two: an attribute link is dropped when a bare URL to
    the same host was already found inside the element's visible text.
    """
    findings = []
    text_hosts: list[tuple[int, str]] = []
    folded = fold(text)
    for start, end in find_urls(text):
        host = external_host(folded[start:end], allowed_domains)
        if host is not None:
            text_hosts.append((start, host))
            findings.append(
                Finding(
                    rule="external_link",
                    field=field,
                    text=text[start:end],
                    start=start,
                    end=end,
                    message=_link_message(host),
                )
            )
    for link in links:
        host = external_host(link.url, allowed_domains)
        if host is None:
            continue
        if any(h == host and link.start <= s <= link.end for s, h in text_hosts):
            continue
        findings.append(
            Finding(
                rule="external_link",
                field=field,
                text=link.url,
                start=link.start,
                end=link.end,
                message=_link_message(host),
                attribute=link.attribute,
            )
        )
    return findings


def find_ad_phrases(text: str, field: FieldName, matcher: SensitiveWordMatcher) -> list[Finding]:
    return [
        Finding(
            rule="ad_phrase",
            field=field,
            text=text[start:end],
            start=start,
            end=end,
            message=f"广告用语“{phrase}” (advertising phrase) must not be published",
        )
        for start, end, phrase in matcher.find(text)
    ]
