"""Validation of documents against the IPTC ninjs 2.2 JSON Schema.

The schema is read once from this package (the only I/O in `schemas/`) and compiled into one
validator, chosen from the schema's own `$schema` (JSON Schema draft 2020-12).

Two deliberate choices:
- `format` is asserted for `date-time` (RFC 3339, with an offset), because every timestamp on the
  wire is read back by machines. `uri` is *not* asserted: IPTC's own example 002 has
  `"uri": "renditions-example"`, and the schema's 2020-12 dialect treats `format` as an annotation.
  `schemas.ninjs.convert.to_ninjs` still only ever writes absolute URIs.
- The schema's one external reference (`places[].geojson` → geojson.org) is never fetched: a small
  stand-in checks that the value is an object with a GeoJSON `type`. Any other remote reference
  fails instead of reaching the network.
"""

import copy
import json
import re
from datetime import datetime
from importlib import resources
from typing import Any

from jsonschema import FormatChecker
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SCHEMA_FILE = "ninjs-schema_2.2.json"

NINJS_SCHEMA: dict[str, Any] = json.loads(
    resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
)
"""The ninjs 2.2 schema as published by IPTC. Read-only by convention; the validator has a copy."""

NINJS_SCHEMA_ID: str = NINJS_SCHEMA["$id"]

_GEOJSON_URI = "https://geojson.org/schema/GeoJSON.json"
_GEOJSON_STAND_IN = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": _GEOJSON_URI,
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {
            "enum": [
                "Point",
                "MultiPoint",
                "LineString",
                "MultiLineString",
                "Polygon",
                "MultiPolygon",
                "GeometryCollection",
                "Feature",
                "FeatureCollection",
            ]
        }
    },
}

_RFC3339_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_MAX_MESSAGE = 300


class NinjsValidationError(ValueError):
    """A document that is not valid ninjs 2.2; `path` is a JSONPath such as `$.headlines[0]`."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"ninjs 2.2 invalid at {path}: {message}")
        self.path = path
        self.message = message


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def is_rfc3339_date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True  # `type` reports non-strings
        if not _RFC3339_DATE_TIME.match(value):
            return False
        datetime.fromisoformat(value.upper())  # rejects 2024-13-01, 25:00 and the like
        return True

    return checker


def _build_validator() -> Any:
    schema = copy.deepcopy(NINJS_SCHEMA)
    cls = validator_for(schema, default=None)
    if cls is None:
        dialect = schema.get("$schema")
        raise RuntimeError(f"unknown JSON Schema dialect {dialect!r} in {SCHEMA_FILE}")
    cls.check_schema(schema)
    geojson = DRAFT202012.create_resource(_GEOJSON_STAND_IN)
    registry = Registry().with_resource(_GEOJSON_URI, geojson)
    return cls(schema, registry=registry, format_checker=_format_checker())


_VALIDATOR = _build_validator()


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def validate_ninjs(doc: object) -> None:
    """Raise `NinjsValidationError` (the most relevant error, with its path) if `doc` is invalid."""
    error = best_match(_VALIDATOR.iter_errors(doc))
    if error is not None:
        raise NinjsValidationError(error.json_path, _shorten(error.message))
