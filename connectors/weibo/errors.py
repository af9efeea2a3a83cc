"""Everything `WeiboClient` raises, in one tree.

    WeiboError                    any failure talking to Weibo
    ├── WeiboConnectionError      the request never reached Weibo (refused, DNS, connect timeout): safe to resend
    ├── WeiboNoResponseError      sent, but no answer came (read timeout, dropped connection): it may have taken effect
    ├── WeiboBadResponseError     an answer that is not Weibo's JSON (an HTML 502 from a proxy, a bare 500)
    └── WeiboAPIError             Weibo's JSON error body {"error", "error_code", "request"}, whatever the HTTP status
        ├── WeiboAuthError        21301–21332: the token is bad, expired or revoked; a human must re-authorise
        ├── WeiboRateLimitError   10022 / 10023 / 10024 / 20016: over a per-IP, per-user or posting limit
        ├── WeiboDuplicateError   20017 / 20019 / 20111: the same (or nearly the same) text is already posted
        ├── WeiboContentError     20012 / 20018 / 20020 / 20021 / 21602 / 10017: the text itself was refused
        └── WeiboPending          20032: *accepted*, but it appears only in 1–2 minutes; not a failure

The codes and their meaning are in ../shared/standards/PLATFORMS.md §2.5.
"""

AUTH_CODES = range(21301, 21333)
RATE_LIMIT_CODES = frozenset({10022, 10023, 10024, 20016})
DUPLICATE_CODES = frozenset({20017, 20019, 20111})
CONTENT_CODES = frozenset({20012, 20018, 20020, 20021, 21602, 10017})
PENDING_CODE = 20032


class WeiboError(Exception):
    pass


class WeiboConnectionError(WeiboError):
    pass


class WeiboNoResponseError(WeiboError):
    pass


class WeiboBadResponseError(WeiboError):
    def __init__(self, http_status: int, content_type: str, snippet: str, request: str):
        super().__init__(
            f"HTTP {http_status} from {request} is not Weibo JSON ({content_type or 'no content type'}): {snippet!r}"
        )
        self.http_status = http_status
        self.content_type = content_type
        self.snippet = snippet
        self.request = request


class WeiboAPIError(WeiboError):
    def __init__(self, error_code: int, error: str, request: str, http_status: int):
        super().__init__(f"{error_code}: {error}, request: {request} (HTTP {http_status})")
        self.error_code = error_code
        self.error = error
        self.request = request
        self.http_status = http_status


class WeiboAuthError(WeiboAPIError):
    pass


class WeiboRateLimitError(WeiboAPIError):
    pass


class WeiboDuplicateError(WeiboAPIError):
    pass


class WeiboContentError(WeiboAPIError):
    pass


class WeiboPending(WeiboAPIError):
    pass


def api_error(error_code: int, error: str, request: str, http_status: int) -> WeiboAPIError:
    """The most specific `WeiboAPIError` subclass for an error code."""
    if error_code == PENDING_CODE:
        cls = WeiboPending
    elif error_code in AUTH_CODES:
        cls = WeiboAuthError
    elif error_code in RATE_LIMIT_CODES:
        cls = WeiboRateLimitError
    elif error_code in DUPLICATE_CODES:
        cls = WeiboDuplicateError
    elif error_code in CONTENT_CODES:
        cls = WeiboContentError
    else:
        cls = WeiboAPIError
    return cls(error_code, error, request, http_status)
