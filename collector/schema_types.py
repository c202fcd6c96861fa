"""The submission schema as msgspec types: a yes-or-no check of a parsed body, run in C.

Valid bodies are the collector's hot path. ``msgspec.convert`` checks a typical parsed body
against these types in a sixth of the time of the schema compiled to Python code by
fastjsonschema (30,000 machine instructions against 190,000, counted by callgrind, December
2026), which had been the largest part of the collector's own work per request. The types
are made from ``submission.schema.json`` itself, so the schema stays the only statement of
the rules; a keyword this translation does not know is refused when the types are made,
never skipped, so a new rule cannot go unchecked here.

Only the keywords the schema uses are translated, each to the msgspec constraint with the
same meaning: string lengths in code points, array and object sizes in entries, an object
either with fixed fields (``additionalProperties: false``) or as a mapping whose every value
has one schema. Nothing is converted: the parsed body is used as it is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from types import GenericAlias
from typing import Annotated, Any, Union

import msgspec

_ANNOTATIONS = {"$schema", "title", "description", "$comment"}  # no rule in them
_KEYWORDS = {
    "string": {"minLength", "maxLength", "pattern"},
    "array": {"items", "minItems", "maxItems"},
    "object": {
        "properties",
        "required",
        "additionalProperties",
        "minProperties",
        "maxProperties",
        "propertyNames",
    },
    "null": set(),
}


class UnsupportedSchema(ValueError):
    """The schema uses a keyword (or a combination) that has no translation here."""


def checker(schema: Mapping[str, Any]) -> Callable[[Any], None]:
    """A function that raises ``msgspec.ValidationError`` unless its argument fits ``schema``.

    ``schema`` must have its ``$ref``s inlined. Raises ``UnsupportedSchema`` at once for a
    schema it cannot translate exactly.
    """
    kind = _type(schema, "Submission")

    def check(value: Any) -> None:
        msgspec.convert(value, kind)

    with contextlib.suppress(msgspec.ValidationError):
        check({})  # msgspec checks the types themselves on first use: do it now
    return check


def _type(node: Mapping[str, Any], name: str) -> Any:
    """The msgspec type accepting exactly the values ``node`` accepts."""
    kinds = node.get("type")
    if kinds is None:
        raise UnsupportedSchema(f"{name}: no 'type'")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    known = set().union(*(_KEYWORDS.get(kind, set()) for kind in kinds))
    unknown = set(node) - known - _ANNOTATIONS - {"type"}
    if unknown or not set(kinds) <= set(_KEYWORDS):
        raise UnsupportedSchema(f"{name}: cannot translate {sorted(unknown) or kinds}")
    options = [_one_type(node, kind, name) for kind in kinds]
    return options[0] if len(options) == 1 else Union[tuple(options)]  # noqa: UP007  (at run time)


def _one_type(node: Mapping[str, Any], kind: str, name: str) -> Any:
    if kind == "null":
        return None
    if kind == "string":
        text = _sized(str, node, "minLength", "maxLength")
        if "pattern" not in node:
            return text
        # msgspec, like JSON Schema, looks for the pattern anywhere in the text (re.search)
        return Annotated[text, msgspec.Meta(pattern=node["pattern"])]
    if kind == "array":
        if "items" not in node:
            raise UnsupportedSchema(f"{name}: an array without 'items'")
        items = _type(node["items"], f"{name} items")
        return _sized(GenericAlias(list, (items,)), node, "minItems", "maxItems")
    return _object_type(node, name)


def _object_type(node: Mapping[str, Any], name: str) -> Any:
    properties: Mapping[str, Any] = node.get("properties", {})
    required = set(node.get("required", ()))
    extra = node.get("additionalProperties", True)
    if extra is False:
        if {"minProperties", "maxProperties", "propertyNames"} & set(node):
            raise UnsupportedSchema(f"{name}: object size or name rules with fixed fields")
        fields = [
            (f"field{number}", _type(schema, f"{name}.{field}"))
            if field in required
            else (f"field{number}", _type(schema, f"{name}.{field}"), None)
            for number, (field, schema) in enumerate(properties.items())
        ]
        if not required <= set(properties):
            raise UnsupportedSchema(f"{name}: a required field without a schema")
        return msgspec.defstruct(
            name,
            fields,
            kw_only=True,
            forbid_unknown_fields=True,
            rename={f"field{number}": field for number, field in enumerate(properties)},
        )
    # A mapping: listed fields must have the very schema of every other value.
    if (
        not isinstance(extra, Mapping)
        or required
        or any(schema != extra for schema in properties.values())
    ):
        raise UnsupportedSchema(f"{name}: fields with schemas of their own, and others")
    names = node.get("propertyNames", {"type": "string"})
    key = _type({"type": "string", **names}, f"{name} field names")
    value = _type(extra, f"{name} values")
    return _sized(GenericAlias(dict, (key, value)), node, "minProperties", "maxProperties")


def _sized(kind: Any, node: Mapping[str, Any], low: str, high: str) -> Any:
    """``kind`` with the schema's bounds on its length, if it has any."""
    if low not in node and high not in node:
        return kind
    return Annotated[kind, msgspec.Meta(min_length=node.get(low), max_length=node.get(high))]
