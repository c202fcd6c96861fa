"""The option types of ``config.yaml``, and how a section declared with them is read and shown.

A section of the file is a frozen dataclass whose fields are declared with ``option()``: the
key is the field's name, the type its annotation, and the field carries the default as it is
written in YAML, the ``Kind`` that checks a value, and a one-line doc. Everything else
follows from that one declaration: the object's own defaults, the loader
(``check_section``), and the README's table (``markdown_table``).

A default goes through the same check as a value from the file, so a default path is resolved
against the config file's folder exactly like one that was written out. An object built in
code (``base=None``, no config file) keeps its default paths relative.
"""

from __future__ import annotations

import ipaddress
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any, Generic, TypeVar

from installdata.errors import UserError

T = TypeVar("T")
Value = TypeVar("Value", covariant=True)  # a Kind only produces values
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Budgets = tuple[tuple[IPNetwork, int], ...]


class ConfigError(UserError):
    """A problem with the configuration, stated in one human-readable line."""


def bad(key: str, expected: str, value: object) -> ConfigError:
    return ConfigError(f"{key}: expected {expected}, got {value!r}")


class Kind(ABC, Generic[Value]):
    """What one option accepts: ``check`` turns its YAML value into a ``Value``."""

    #: The accepted values in a few words, for the README's table.
    values: str

    @abstractmethod
    def check(self, key: str, value: object, base: Path | None) -> Value:
        """The value as the programs use it, or ``ConfigError`` naming ``key``.

        ``base`` is the config file's folder, or None for an object built in code.
        """


class Text(Kind[str]):
    values = "text"

    def check(self, key: str, value: object, base: Path | None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise bad(key, "a non-empty string", value)
        return value


class WebAddress(Kind[str]):
    values = "http(s) URL"

    def check(self, key: str, value: object, base: Path | None) -> str:
        if not isinstance(value, str) or not re.fullmatch(r"https?://[^\s/]+\S*", value):
            raise bad(key, "an http:// or https:// address", value)
        return value


class Integer(Kind[int]):
    def __init__(self, minimum: int) -> None:
        self.minimum = minimum
        self.values = f"integer >= {minimum}"

    def check(self, key: str, value: object, base: Path | None) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < self.minimum:
            raise bad(key, f"an integer >= {self.minimum}", value)
        return value


class Port(Kind[int]):
    values = "port, 0 to 65535"

    def check(self, key: str, value: object, base: Path | None) -> int:
        port = Integer(0).check(key, value, base)
        if port > 65535:
            raise bad(key, "a port number from 0 to 65535", value)
        return port


class Flag(Kind[bool]):
    values = "true or false"

    def check(self, key: str, value: object, base: Path | None) -> bool:
        if not isinstance(value, bool):
            raise bad(key, "true or false", value)
        return value


class FilePath(Kind[Path]):
    values = "path"

    def check(self, key: str, value: object, base: Path | None) -> Path:
        path = Path(Text().check(key, value, base)).expanduser()
        return path if base is None or path.is_absolute() else (base / path).resolve()


class Secrets(Kind[dict[str, str]]):
    """Submission keys, name -> secret. No message here ever shows a secret."""

    values = "mapping of name: secret"

    def check(self, key: str, value: object, base: Path | None) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):  # its type only: the value may well be a secret
            raise ConfigError(
                f"{key}: expected a mapping of key name to secret, got {type(value).__name__}"
            )
        for name, secret in value.items():
            if not isinstance(name, str) or not name.strip():
                raise bad(key, "key names that are non-empty strings", name)
            if not isinstance(secret, str) or len(secret) < 8:
                raise ConfigError(f"{key}.{name}: expected a secret of at least 8 characters")
        return dict(value)


class TextMapping(Kind[dict[str, str]]):
    """Text -> text, e.g. a package name -> its key; ``links``: the values are http(s) URLs."""

    def __init__(self, source: str, target: str, links: bool = False) -> None:
        self.links = links
        self.values = f"mapping of {source}: {target}"

    def check(self, key: str, value: object, base: Path | None) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise bad(key, self.values.replace("mapping", "a mapping", 1), value)
        for name, target in value.items():
            Text().check(key, name, base)
            Text().check(f"{key}.{name}", target, base)
            if self.links and not target.lower().startswith(("http://", "https://")):
                raise bad(f"{key}.{name}", "an http:// or https:// URL", target)
        return {name.strip(): target.strip() for name, target in value.items()}


class Networks(Kind[tuple[IPNetwork, ...]]):
    values = "list of IP addresses or networks"

    def check(self, key: str, value: object, base: Path | None) -> tuple[IPNetwork, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise bad(key, "a list of IP addresses or networks", value)
        networks = []
        for item in value:
            try:
                networks.append(ipaddress.ip_network(str(item), strict=False))
            except ValueError:
                raise bad(
                    key, "IP addresses or networks such as 127.0.0.1 or 10.0.0.0/8", item
                ) from None
        return tuple(networks)


class NetworkBudgets(Kind[Budgets]):
    """IP network -> a number (of requests), the most specific network first."""

    values = "mapping of IP network: integer >= 1"

    def check(self, key: str, value: object, base: Path | None) -> Budgets:
        if value is None:
            return ()
        if not isinstance(value, dict):
            raise bad(key, "a mapping of IP network to requests", value)
        budgets = []
        for network, number in value.items():
            try:
                parsed = ipaddress.ip_network(str(network), strict=False)
            except ValueError:
                raise bad(key, "IP networks such as 203.0.113.0/24", network) from None
            budgets.append((parsed, Integer(1).check(f"{key}.{network}", number, base)))
        return tuple(sorted(budgets, key=lambda budget: -budget[0].prefixlen))


DatedLabels = tuple[tuple[str, str], ...]


class Dated(Kind[DatedLabels]):
    """Date -> a label, e.g. ``2026-03-01: setup instructions switched to conda``; oldest
    first. YAML reads an unquoted date as a date, a quoted one as text: both are accepted."""

    values = "mapping of YYYY-MM-DD: text"

    def check(self, key: str, value: object, base: Path | None) -> DatedLabels:
        if value is None:
            return ()
        if not isinstance(value, dict):
            raise bad(key, "a mapping of date (YYYY-MM-DD) to text", value)
        dated = []
        for day, label in value.items():
            try:
                parsed = day if isinstance(day, date) else date.fromisoformat(str(day))
            except ValueError:
                raise bad(key, "dates such as 2026-03-01", day) from None
            dated.append((parsed.isoformat()[:10], Text().check(f"{key}.{day}", label, base)))
        return tuple(sorted(dated))


class OrNull(Kind[T | None]):
    """``null`` (off), or a value of ``inner``, whose words a wrong value gets."""

    def __init__(self, inner: Kind[T]) -> None:
        self.inner = inner
        self.values = f"{inner.values}, or null"

    def check(self, key: str, value: object, base: Path | None) -> T | None:
        return None if value is None else self.inner.check(key, value, base)


class Section(Kind[T]):
    """A nested mapping, checked against the options declared on the dataclass ``cls``."""

    values = "mapping"

    def __init__(self, cls: type[T]) -> None:
        self.cls = cls

    def check(self, key: str, value: object, base: Path | None) -> T:
        return self.cls(**check_section(key, value, base, self.cls))


@dataclass(frozen=True)
class Declared:
    """One option as declared: its default as written in YAML, its check, its doc."""

    default: object
    kind: Kind[Any]
    doc: str


_DECLARED = "installdata.option"  # the key of a field's metadata that holds its Declared


def option(default: object, kind: Kind[T], doc: str) -> T:
    """Declare a dataclass field as a config option (use as the field's default)."""
    declared = Declared(default, kind, doc)
    return field(
        default_factory=lambda: kind.check("", default, None), metadata={_DECLARED: declared}
    )


def section(cls: type[T]) -> T:
    """Declare a field as a nested section of the options of ``cls`` (its docstring says why)."""
    return option({}, Section(cls), (cls.__doc__ or "").strip().split("\n")[0])


def declared(cls: type) -> list[tuple[str, Declared]]:
    """The options of a section in declaration order; fields without one are not options."""
    return [(f.name, f.metadata[_DECLARED]) for f in fields(cls) if _DECLARED in f.metadata]


def _join(prefix: str, name: object) -> str:
    return f"{prefix}.{name}" if prefix else str(name)


def check_section(prefix: str, value: object, base: Path | None, cls: type) -> dict[str, Any]:
    """Check one mapping against the options of ``cls``; an absent key gets its default.

    Keys are checked in the order of the file, so the first problem in it is the one named.
    """
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise bad(prefix or "config", "a mapping", value)
    options = dict(declared(cls))
    checked = {}
    for name, raw in value.items():
        if name not in options:
            known = ", ".join(sorted(options))
            raise ConfigError(f"{_join(prefix, name)}: unknown key (known keys here: {known})")
        checked[name] = options[name].kind.check(_join(prefix, name), raw, base)
    for name, declaration in options.items():
        if name not in checked:
            checked[name] = declaration.kind.check(_join(prefix, name), declaration.default, base)
    return checked


def leaves(cls: type, prefix: str = "") -> Iterator[tuple[str, Declared]]:
    """Every option below ``cls`` that is not a section, by its dotted key."""
    for name, declaration in declared(cls):
        key = _join(prefix, name)
        if isinstance(declaration.kind, Section):
            yield from leaves(declaration.kind.cls, key)
        else:
            yield key, declaration


def yaml_text(value: object) -> str:
    """A default as it is written in ``config.yaml`` (YAML reads JSON's ``null``, ``{}``)."""
    return value if isinstance(value, str) else json.dumps(value)


def markdown_table(cls: type) -> str:
    """The reference table of every option below ``cls``, one Markdown row each."""
    rows = ["| key | value | default | meaning |", "| --- | --- | --- | --- |"]
    for key, declaration in leaves(cls):
        default = yaml_text(declaration.default)
        rows.append(f"| `{key}` | {declaration.kind.values} | `{default}` | {declaration.doc} |")
    return "\n".join(rows) + "\n"
