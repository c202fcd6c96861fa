"""Turn a request body into a checked submission, or into a list of every problem with it.

Two steps, each with its own error: ``parse_body`` insists on what RFC 8259 calls JSON
(UTF-8, no NaN/Infinity, no lone surrogates, which cannot be stored as UTF-8 later) with an
object at the top; ``validate_submission`` checks that object against
``submission.schema.json``, the single source of truth also served as ``/schema.json`` and
embedded in ``/openapi.json``. Problems carry JSON pointers ("/failed_installs/0/name") so a
script author can find them, and our own short messages, because jsonschema's default ones
repeat the offending value (which may be 10,000 characters long).

Valid bodies are the hot path, so they are first checked by the same schema translated to
msgspec types (``collector/schema_types.py``, checked in C); only a body that fails is
walked again by jsonschema, which can list every problem with its path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import msgspec
import orjson
from jsonschema import Draft202012Validator, ValidationError

from collector.schema_types import checker
from installdata.record import SCHEMA, is_name

MAX_DETAILS = 1000  # bounds the size of an error response to a hostile body


@dataclass(frozen=True)
class Problem:
    path: str  # JSON pointer into the body, "" for the body as a whole
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class InvalidBody(Exception):
    """The body is not an acceptable submission; ``problems`` says why (never empty)."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems


@cache
def submission_schema() -> dict[str, Any]:
    """The JSON Schema of a submission body (Draft 2020-12), loaded from package data."""
    schema: dict[str, Any] = json.loads(SCHEMA.read_text("utf-8"))
    return schema


@cache
def _inlined_schema() -> dict[str, Any]:
    schema = submission_schema()
    Draft202012Validator.check_schema(schema)
    inlined: dict[str, Any] = _inline_refs(schema, schema.get("$defs", {}))
    return inlined


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(_inlined_schema())


@cache
def _fast_check() -> Callable[[Any], None]:
    """The schema as msgspec types: raises on the first problem, says nothing more."""
    return checker(_inlined_schema())


def _inline_refs(node: Any, definitions: dict[str, Any]) -> Any:
    """Replace each ``{"$ref": "#/$defs/name"}`` by the definition itself.

    Same meaning (the schema has no recursion), but jsonschema validates a full 2000-entry
    body about four times faster without resolving references on every entry.
    """
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and len(node) == 1:
            return _inline_refs(definitions[ref.removeprefix("#/$defs/")], definitions)
        kept = {key: value for key, value in node.items() if key != "$defs"}
        return {key: _inline_refs(value, definitions) for key, value in kept.items()}
    if isinstance(node, list):
        return [_inline_refs(item, definitions) for item in node]
    return node


def parse_body(raw: bytes) -> dict[str, Any]:
    """Parse strict UTF-8 JSON whose top level is an object; raise ``InvalidBody``.

    orjson checks the whole body is UTF-8 before parsing, so a valid body is not decoded a
    second time; only a refused one is, to tell bad UTF-8 (and where) from bad JSON.
    """
    try:
        data = orjson.loads(raw)  # RFC 8259: rejects NaN, Infinity and lone surrogates
    except orjson.JSONDecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            problem = Problem("", f"invalid UTF-8 at byte {bad.start}")
            raise InvalidBody("body is not valid UTF-8", [problem]) from None
        raise InvalidBody("body is not valid JSON", [Problem("", str(exc))]) from None
    if not isinstance(data, dict):
        problem = Problem("", f"expected an object, got {_json_type(data)}")
        raise InvalidBody("body must be a JSON object", [problem])
    return data


def validate_submission(data: dict[str, Any]) -> None:
    """Check a parsed body against the schema; raise ``InvalidBody`` listing every problem."""
    try:
        _fast_check()(data)
        return
    except msgspec.ValidationError:
        pass  # list every problem below
    errors = sorted(_validator().iter_errors(data), key=_document_order)
    if not errors:
        return
    problems = [Problem(_pointer(error), _describe(error)) for error in errors[:MAX_DETAILS]]
    if len(errors) > MAX_DETAILS:
        problems.append(Problem("", f"{len(errors) - MAX_DETAILS} more problems not listed"))
    count = f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"
    raise InvalidBody(f"submission does not match the schema ({count})", problems)


def _document_order(error: ValidationError) -> tuple[list[tuple[bool, Any]], str]:
    """Sort key: by path, list indexes numerically (/2 before /10), then by rule."""
    return [(isinstance(part, str), part) for part in error.path], str(error.validator)


def _pointer(error: ValidationError) -> str:
    """RFC 6901 JSON pointer of the offending value."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in error.path)


def _describe(error: ValidationError) -> str:
    """A short message naming the rule, never echoing a (possibly huge) value."""
    rule, expected, instance = error.validator, error.validator_value, error.instance
    if "propertyNames" in error.relative_schema_path:
        return f"field name {_clip(str(instance))!r} is not 1 to 100 characters long"
    if rule == "type":
        kinds = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {kinds}, got {_json_type(instance)}"
    if rule == "maxLength":
        return f"longer than {expected} characters"
    if rule == "pattern" and isinstance(instance, str) and not is_name(instance):
        return "has no character that is not white space"  # package_name's pattern
    if rule == "maxItems":
        return f"more than {expected} entries"
    if rule == "maxProperties":
        return f"more than {expected} fields"
    # the two rules about an object's fields (the instance is always a dict for them)
    if rule == "required" and isinstance(expected, list) and isinstance(instance, dict):
        missing = [name for name in expected if name not in instance]
        return "missing required field " + ", ".join(repr(name) for name in missing)
    if rule == "additionalProperties" and isinstance(instance, dict):
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        extra = sorted(set(instance) - set(allowed))
        return "unexpected field " + ", ".join(repr(_clip(name)) for name in extra)
    return _clip(error.message)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
