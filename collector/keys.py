"""Submission keys: which configured key, if any, a request presented.

Keys are shared secrets baked into installer scripts; they keep random traffic out, they do
not identify a person. A request is compared against *every* configured key, always all of
them and in constant time (hmac.compare_digest on SHA-256 digests, so even the length of a
secret does not leak), so response timing does not tell which key came close.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from installdata.errors import UserError

ANONYMOUS = "anonymous"  # the key_name stored when allow_anonymous admits a keyless request


class MissingKey(Exception):
    """No key was sent (HTTP 401)."""


class WrongKey(Exception):
    """A key was sent but it is not one of ours (HTTP 403)."""


def presented_key(authorization: str | None, submission_key: str | None) -> str | None:
    """The key a request carries: ``Authorization: Bearer <key>`` or ``X-Submission-Key``."""
    if authorization:
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    if submission_key and submission_key.strip():
        return submission_key.strip()
    return None


class KeyRing:
    """The configured keys (name -> secret), checked in constant time."""

    def __init__(self, keys: Mapping[str, str], allow_anonymous: bool) -> None:
        if not keys and not allow_anonymous:
            raise UserError(
                "no submission keys configured: set collector.keys, collector.keys_file or "
                "COLLECTOR_KEYS (or collector.allow_anonymous: true to accept anyone)"
            )
        self._digests = [(name, _digest(secret)) for name, secret in keys.items()]
        self._allow_anonymous = allow_anonymous

    def identify(self, presented: str | None) -> str:
        """Return the name of the presented key; raise ``MissingKey`` or ``WrongKey``."""
        if presented is None:
            if self._allow_anonymous:
                return ANONYMOUS
            raise MissingKey
        digest = _digest(presented)
        matched = None
        for name, secret_digest in self._digests:  # no early exit: every key is compared
            if hmac.compare_digest(digest, secret_digest):
                matched = name
        if matched is None:
            raise WrongKey
        return matched


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", errors="surrogateescape")).digest()
