"""The OpenAPI 3.1 description served at ``/openapi.json``, built from the submission schema.

Built in code rather than kept as a second file so it can never drift from
``submission.schema.json``: the schema's ``$defs`` become ``components/schemas`` and its
internal references are rewritten to point there (OpenAPI 3.1 schemas are JSON Schema
2020-12, so nothing else changes).
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from collector.validation import submission_schema
from installdata.protocol import SUBMISSION_PATHS as SUBMISSION_PATHS  # re-exported: app.py

_RATE_HEADERS = {
    "X-RateLimit-Limit": ("requests allowed per window", "integer"),
    "X-RateLimit-Remaining": ("requests left in the current window", "integer"),
    "X-RateLimit-Reset": ("Unix time when the window resets", "integer"),
}

_ERRORS = {
    "400": "malformed or invalid body; details lists every problem",
    "401": "no submission key sent",
    "403": "wrong submission key",
    "413": "body larger than max_body_bytes",
    "415": "Content-Type is not application/json",
    "429": "rate limit exceeded; see Retry-After",
    "503": "cannot store right now; nothing was stored, and the request is not counted",
}


@cache
def openapi_document() -> dict[str, Any]:
    components = _schema_components()
    paths: dict[str, Any] = {path: {"post": _submit_operation(path)} for path in SUBMISSION_PATHS}
    paths["/healthz"] = {"get": _get_operation("health", "Health check", "Health")}
    paths["/schema.json"] = {"get": _get_operation("schema", "The submission JSON Schema", None)}
    paths["/openapi.json"] = {"get": _get_operation("openapi", "This document", None)}
    paths["/"] = {"get": _get_operation("about", "What this service is", None)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Installation test results collector",
            "version": "1",
            "description": "Receives installation-test results from installer scripts.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "submissionKey": {"type": "apiKey", "in": "header", "name": "X-Submission-Key"},
            },
        },
    }


def _schema_components() -> dict[str, Any]:
    schema = copy.deepcopy(submission_schema())
    schema.pop("$schema", None)
    definitions = schema.pop("$defs", {})
    components = {name: _rewrite_refs(value) for name, value in definitions.items()}
    components["Submission"] = _rewrite_refs(schema)
    components["Accepted"] = {
        "type": "object",
        "required": ["key", "submission_id", "summary"],
        "properties": {
            "key": {"type": "string", "description": "user id to send next time"},
            "submission_id": {"type": "string"},
            "summary": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {
                    "status": {"const": "Successful"},
                    "message": {"enum": ["new id generated", "pushed data with same id"]},
                },
            },
        },
    }
    components["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message", "details"],
                "properties": {
                    "status": {"type": "integer"},
                    "message": {"type": "string"},
                    "details": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["path", "message"],
                            "properties": {
                                "path": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        },
                    },
                },
            }
        },
    }
    components["Health"] = {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string"}},
    }
    return components


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: value.replace("#/$defs/", "#/components/schemas/")
            if key == "$ref" and isinstance(value, str)
            else _rewrite_refs(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item) for item in node]
    return node


def _json_content(schema_name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}


def _submit_operation(path: str) -> dict[str, Any]:
    headers = {
        name: {"description": text, "schema": {"type": kind}}
        for name, (text, kind) in _RATE_HEADERS.items()
    }
    responses: dict[str, Any] = {
        "200": {"description": "stored", "headers": headers, "content": _json_content("Accepted")}
    }
    for status, text in _ERRORS.items():
        responses[status] = {
            "description": text,
            "headers": headers,
            "content": _json_content("Error"),
        }
    responses["429"]["headers"] = {
        **headers,
        "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}},
    }
    operation_id = "submit_" + "".join(c if c.isalnum() else "_" for c in path).strip("_")
    return {
        "operationId": operation_id,
        "summary": "Submit one installation-test result",
        "security": [{"bearer": []}, {"submissionKey": []}],
        "requestBody": {"required": True, "content": _json_content("Submission")},
        "responses": responses,
    }


def _get_operation(operation_id: str, summary: str, schema_name: str | None) -> dict[str, Any]:
    content = _json_content(schema_name) if schema_name else {"application/json": {}}
    responses: dict[str, Any] = {"200": {"description": summary, "content": content}}
    if operation_id == "health":
        responses["503"] = {"description": "cannot store", "content": _json_content("Error")}
    return {"operationId": operation_id, "summary": summary, "responses": responses}
