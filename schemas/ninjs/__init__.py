"""IPTC ninjs 2.2 (News in JSON): the wire format of items on `ck.items`.

`NINJS_SCHEMA` is the IPTC schema (see LICENSE.md), `validate_ninjs` checks a document against it,
and `to_ninjs` maps an `ItemSnapshot` onto it (conventions documented in `convert.py`).
"""

from schemas.ninjs.convert import (
    ITEM_URN_PREFIX,
    MEDIA_URN_PREFIX,
    PubStatus,
    item_uri,
    media_uri,
    to_ninjs,
)
from schemas.ninjs.validation import (
    NINJS_SCHEMA,
    NINJS_SCHEMA_ID,
    NinjsValidationError,
    validate_ninjs,
)

__all__ = [
    "ITEM_URN_PREFIX",
    "MEDIA_URN_PREFIX",
    "NINJS_SCHEMA",
    "NINJS_SCHEMA_ID",
    "NinjsValidationError",
    "PubStatus",
    "item_uri",
    "media_uri",
    "to_ninjs",
    "validate_ninjs",
]
