"""Load and validate ``config.yaml`` for both the collector and the generator.

The whole file is checked up front, before anything starts, so that a typo never surfaces
as a traceback at 3 a.m.: every problem becomes one ``ConfigError`` line that names the
key (``collector.rate_limit.requests``) and what was wrong with it. Unknown keys are errors
too, because a misspelt key silently falling back to its default is worse than a refusal.

Secrets need not live in ``config.yaml``: submission keys may also come from
``collector.keys_file`` (a YAML mapping of name to secret) or the ``COLLECTOR_KEYS``
environment variable (``name=secret,other=secret2``); the user-id signing secret from
``COLLECTOR_ID_SECRET`` or the file named by ``collector.id_secret_file``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from installdata.errors import UserError

KEYS_ENV = "COLLECTOR_KEYS"
ID_SECRET_ENV = "COLLECTOR_ID_SECRET"

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(UserError):
    """A problem with the configuration, stated in one human-readable line."""


@dataclass(frozen=True)
class RateLimitConfig:
    requests: int = 100
    per_seconds: int = 3600
    max_clients: int = 100_000


@dataclass(frozen=True)
class CollectorConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    submissions_dir: Path = Path("submissions")
    max_body_bytes: int = 262_144
    keys: Mapping[str, str] = field(default_factory=dict)
    allow_anonymous: bool = False
    id_secret_file: Path = Path(".collector-secret")
    id_secret: str | None = None
    rate_limit: RateLimitConfig = field(default_factory=RateLimitConfig)
    trusted_proxies: tuple[IPNetwork, ...] = ()
    threads: int = 8
    retention_days: int | None = None
    report_url: str | None = None


@dataclass(frozen=True)
class GeneratorConfig:
    submissions_dir: Path = Path("submissions")
    site_dir: Path = Path("site")
    title: str = "Installation test results"
    min_workshop_participants: int = 1


@dataclass(frozen=True)
class Config:
    path: Path
    collector: CollectorConfig
    generator: GeneratorConfig


# --- value checkers: each takes (dotted key, raw value, config folder) -------------------

Checker = Callable[[str, Any, Path], Any]


def _bad(key: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(f"{key}: expected {expected}, got {value!r}")


def _string(key: str, value: Any, _base: Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(key, "a non-empty string", value)
    return value


def _optional_string(key: str, value: Any, base: Path) -> str | None:
    return None if value is None else _string(key, value, base)


def _int_at_least(minimum: int) -> Checker:
    def check(key: str, value: Any, _base: Path) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise _bad(key, f"an integer >= {minimum}", value)
        return value

    return check


def _optional_int_at_least(minimum: int) -> Checker:
    inner = _int_at_least(minimum)
    return lambda key, value, base: None if value is None else inner(key, value, base)


def _port(key: str, value: Any, base: Path) -> int:
    port = _int_at_least(0)(key, value, base)
    if port > 65535:
        raise _bad(key, "a port number from 0 to 65535", value)
    return port


def _bool(key: str, value: Any, _base: Path) -> bool:
    if not isinstance(value, bool):
        raise _bad(key, "true or false", value)
    return value


def _path(key: str, value: Any, base: Path) -> Path:
    path = Path(_string(key, value, base)).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _keys(key: str, value: Any, _base: Path) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):  # its type only: the value may well be a secret
        raise ConfigError(
            f"{key}: expected a mapping of key name to secret, got {type(value).__name__}"
        )
    for name, secret in value.items():
        if not isinstance(name, str) or not name.strip():
            raise _bad(key, "key names that are non-empty strings", name)
        if not isinstance(secret, str) or len(secret) < 8:
            raise ConfigError(f"{key}.{name}: expected a secret of at least 8 characters")
    return dict(value)


def _networks(key: str, value: Any, _base: Path) -> tuple[IPNetwork, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _bad(key, "a list of IP addresses or networks", value)
    networks = []
    for item in value:
        try:
            networks.append(ipaddress.ip_network(str(item), strict=False))
        except ValueError:
            raise _bad(
                key, "IP addresses or networks such as 127.0.0.1 or 10.0.0.0/8", item
            ) from None
    return tuple(networks)


# --- the schema: section -> key -> checker ------------------------------------------------

_RATE_LIMIT: dict[str, Checker] = {
    "requests": _int_at_least(1),
    "per_seconds": _int_at_least(1),
    "max_clients": _int_at_least(1),
}

_COLLECTOR: dict[str, Checker] = {
    "host": _string,
    "port": _port,
    "submissions_dir": _path,
    "max_body_bytes": _int_at_least(1024),
    "keys": _keys,
    "keys_file": _path,
    "allow_anonymous": _bool,
    "id_secret_file": _path,
    "rate_limit": lambda key, value, base: _section(key, value, base, _RATE_LIMIT),
    "trusted_proxies": _networks,
    "threads": _int_at_least(1),
    "retention_days": _optional_int_at_least(1),
    "report_url": _optional_string,
}

_GENERATOR: dict[str, Checker] = {
    "submissions_dir": _path,
    "site_dir": _path,
    "title": _string,
    "min_workshop_participants": _int_at_least(1),
}

_TOP: dict[str, Checker] = {
    "collector": lambda key, value, base: _section(key, value, base, _COLLECTOR),
    "generator": lambda key, value, base: _section(key, value, base, _GENERATOR),
}


def _section(prefix: str, value: Any, base: Path, schema: dict[str, Checker]) -> dict[str, Any]:
    """Check one mapping against its schema; return only the keys that were given."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(prefix or "config", "a mapping", value)
    checked = {}
    for name, raw in value.items():
        key = f"{prefix}.{name}" if prefix else str(name)
        if name not in schema:
            known = ", ".join(sorted(schema))
            raise ConfigError(f"{key}: unknown key (known keys here: {known})")
        checked[name] = schema[name](key, raw, base)
    return checked


def _keys_from_env(environ: Mapping[str, str]) -> dict[str, str]:
    raw = environ.get(KEYS_ENV, "").strip()
    if not raw:
        return {}
    keys = {}
    for number, item in enumerate(raw.split(","), start=1):
        name, sep, secret = item.strip().partition("=")
        if not sep or not name.strip():  # not echoed: the item may be a bare secret
            raise ConfigError(
                f"{KEYS_ENV}: expected name=secret[,name=secret...]; entry {number} is not"
            )
        keys[name.strip()] = _keys(KEYS_ENV, {name.strip(): secret}, Path("."))[name.strip()]
    return keys


def _keys_from_file(path: Path) -> dict[str, str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"collector.keys_file: file not found: {path}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"collector.keys_file: cannot read {path}: {_one_line(exc)}") from None
    return _keys(f"keys_file {path}", data, path.parent)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """What PyYAML found and where, without its dump of the offending text."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or _one_line(exc)
    return (
        problem if mark is None else f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def load_config(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> Config:
    """Read, validate and resolve a config file; raise ``ConfigError`` on any problem."""
    environ = os.environ if environ is None else environ
    path = Path(path).expanduser().resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {_one_line(exc)}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name} is not valid YAML: {_yaml_problem(exc)}") from None
    base = path.parent
    top = _section("", data, base, _TOP)

    collector = dict(top.get("collector", {}))
    if "rate_limit" in collector:
        collector["rate_limit"] = RateLimitConfig(**collector["rate_limit"])
    keys = dict(collector.pop("keys", {}))
    keys_file = collector.pop("keys_file", None)
    if keys_file is not None:
        keys.update(_keys_from_file(keys_file))
    keys.update(_keys_from_env(environ))
    collector["keys"] = keys
    collector.setdefault("submissions_dir", base / "submissions")
    collector.setdefault("id_secret_file", base / ".collector-secret")
    id_secret = environ.get(ID_SECRET_ENV, "").strip()
    collector["id_secret"] = id_secret or None

    generator = dict(top.get("generator", {}))
    generator.setdefault("submissions_dir", base / "submissions")
    generator.setdefault("site_dir", base / "site")

    return Config(
        path=path,
        collector=CollectorConfig(**collector),
        generator=GeneratorConfig(**generator),
    )
