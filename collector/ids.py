"""User ids and submission ids, both made by the server and never from client text.

A user id is ``<random>.<signature>``: 16 random bytes in hex and a truncated HMAC-SHA256 of
them in URL-safe base64. The random part is hex so that an id never starts with ``-``, which
would read as an option on a command line (``collector forget --user-id ID``). The server
can therefore tell an id it issued from one that was typed, truncated, forged or issued by
another server, without a lookup table. The HMAC secret comes
from ``COLLECTOR_ID_SECRET`` or from ``collector.id_secret_file``, which is created on first
start (mode 0600) and must be kept: a new secret invalidates every id handed out before.

A submission id is the UTC receive time to the microsecond plus 64 random bits, e.g.
``20261122T101502123456Z-3f9a0c1d2e4b5a69``: it sorts by time and is safe as a file name.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import re
import secrets
from datetime import datetime, timezone
from pathlib import Path

from installdata.errors import UserError
from installdata.storage import fsync_dir

_USER_ID = re.compile(r"[0-9a-f]{32}\.[A-Za-z0-9_-]{22}")
_MIN_SECRET_CHARS = 16


class UserIds:
    """Issue and verify signed user ids."""

    def __init__(self, secret: bytes) -> None:
        # keyed once: a copy per id skips the key setup (22,000 machine instructions a
        # signature instead of 30,000, callgrind)
        self._keyed = hmac.new(secret, digestmod=hashlib.sha256)

    def issue(self) -> str:
        random_part = secrets.token_hex(16)
        return f"{random_part}.{self._sign(random_part)}"

    def is_valid(self, user_id: object) -> bool:
        if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
            return False
        random_part, _, signature = user_id.partition(".")
        return hmac.compare_digest(signature, self._sign(random_part))

    def resolve(self, claimed: object) -> tuple[str, bool]:
        """Return (user id to use, whether the claimed one was kept)."""
        if self.is_valid(claimed):
            return str(claimed), True
        return self.issue(), False

    def _sign(self, random_part: str) -> str:
        mac = self._keyed.copy()
        mac.update(b"user-id:" + random_part.encode("ascii"))
        return _b64(mac.digest()[:16])


def load_id_secret(secret: str | None, secret_file: Path) -> bytes:
    """The signing secret: ``secret`` if given, else the file's, creating the file if needed."""
    if secret is not None:
        return _checked(secret, "COLLECTOR_ID_SECRET")
    try:
        return _checked(_read_secret(secret_file), str(secret_file))
    except FileNotFoundError:
        pass
    _create_secret_file(secret_file)
    return _checked(_read_secret(secret_file), str(secret_file))


def _read_secret(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise UserError(f"cannot read id secret file {path}: {reason}") from None


def _create_secret_file(path: Path) -> None:
    """Create the secret file atomically; if another process wins the race, keep theirs.

    The secret is written to a private temp file, fsynced, then hard-linked to its final name:
    a link, unlike a rename, fails when the name exists, so two collectors starting at once
    end up sharing one secret instead of each believing its own.
    """
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(secrets.token_urlsafe(32) + "\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first: keep theirs
            os.link(temp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        raise UserError(f"cannot create id secret file {path}: {exc.strerror or exc}") from None
    finally:
        temp.unlink(missing_ok=True)


def _checked(secret: str, origin: str) -> bytes:
    if len(secret) < _MIN_SECRET_CHARS:
        raise UserError(f"id secret from {origin} is shorter than {_MIN_SECRET_CHARS} characters")
    return secret.encode("utf-8")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def new_submission_id(received: datetime) -> str:
    """A time-sortable, file-name-safe id for a submission received at ``received`` (UTC)."""
    t = received.astimezone(timezone.utc)
    # the fields %-formatted: half the instructions of strftime's %Y%m%dT%H%M%S%f (callgrind)
    fields = (t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond)
    return "%04d%02d%02dT%02d%02d%02d%06dZ-%s" % (*fields, secrets.token_hex(8))  # noqa: UP031
