"""Load and validate ``config.yaml`` for both the collector and the generator.

The whole file is checked up front, before anything starts, so that a typo never surfaces
as a traceback at 3 a.m.: every problem becomes one ``ConfigError`` line that names the
key (``collector.rate_limit.requests``) and what was wrong with it. Unknown keys are errors
too, because a misspelt key silently falling back to its default is worse than a refusal.

Every option is declared once, below: its key, type, default, check and doc (the machinery
is ``installdata/options.py``). The README's "Configuration" table is printed from these
declarations by ``python -m installdata.config``, and a test keeps the two equal.

Secrets need not live in ``config.yaml``: submission keys may also come from
``collector.keys_file`` (a YAML mapping of name to secret) or the ``COLLECTOR_KEYS``
environment variable (``name=secret,other=secret2``); the user-id signing secret from
``COLLECTOR_ID_SECRET`` or the file named by ``collector.id_secret_file``.
"""

# ruff: noqa: RUF009  (option() and section() return a dataclasses.field, as field() does)

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from installdata.folder import MAX_FILE_BYTES
from installdata.options import (
    Budgets,
    ConfigError,
    Dated,
    DatedLabels,
    FilePath,
    Flag,
    Integer,
    IPNetwork,
    NetworkBudgets,
    Networks,
    OrNull,
    Port,
    Secrets,
    Section,
    Text,
    TextMapping,
    WebAddress,
    check_section,
    markdown_table,
    option,
    section,
)

__all__ = [
    "ID_SECRET_ENV",
    "KEYS_ENV",
    "CollectorConfig",
    "Config",
    "ConfigError",
    "GeneratorConfig",
    "InstallTestConfig",
    "RateLimitConfig",
    "load_config",
]

KEYS_ENV = "COLLECTOR_KEYS"
ID_SECRET_ENV = "COLLECTOR_ID_SECRET"


@dataclass(frozen=True)
class RateLimitConfig:
    """How many submissions one client IP may send (``collector.rate_limit``)."""

    requests: int = option(100, Integer(1), "submissions accepted per client IP ...")
    per_seconds: int = option(3600, Integer(1), "... per this many seconds")
    max_clients: int = option(
        100_000, Integer(1), "most client IPs tracked at once (bounds memory under a flood)"
    )
    overrides: Budgets = option(
        {}, NetworkBudgets(), "another `requests` for each IP of a network, e.g. a workshop's NAT"
    )


@dataclass(frozen=True)
class CollectorConfig:
    """The web service that installer scripts post to (``collector``).

    ``keys`` holds every accepted key: ``load_config`` merges those of ``keys_file`` and
    ``COLLECTOR_KEYS`` into it. ``id_secret`` is never read from the file, only from
    ``COLLECTOR_ID_SECRET``.
    """

    host: str = option(
        "127.0.0.1", Text(), "address to listen on (put nginx in front for the public)"
    )
    port: int = option(8080, Port(), "port to listen on (0: any free port)")
    submissions_dir: Path = option(
        "submissions", FilePath(), "where accepted submissions are stored, one JSON file each"
    )
    max_body_bytes: int = option(262_144, Integer(1024), "larger request bodies get 413, unread")
    keys: Mapping[str, str] = option(
        {}, Secrets(), "accepted submission keys; each secret at least 8 characters long"
    )
    keys_file: Path | None = option(
        None, OrNull(FilePath()), "a YAML file of more keys, merged over `keys` (keeps secrets out)"
    )
    allow_anonymous: bool = option(
        False, Flag(), "accept submissions without a key (not recommended)"
    )
    id_secret_file: Path = option(
        ".collector-secret", FilePath(), "signs the user ids; created on first start, back it up"
    )
    id_secret: str | None = None
    rate_limit: RateLimitConfig = section(RateLimitConfig)
    trusted_proxies: tuple[IPNetwork, ...] = option(
        [], Networks(), "peers whose `X-Forwarded-For` is believed, e.g. `[127.0.0.1]`"
    )
    threads: int = option(32, Integer(1), "worker threads of the WSGI server")
    connection_limit: int = option(
        500, Integer(10), "most client connections open at once (each holds a file descriptor)"
    )
    connection_timeout: int = option(
        30, Integer(1), "seconds a connection may send nothing before it is closed"
    )
    retention_days: int | None = option(
        None, OrNull(Integer(1)), "`collector prune` deletes submissions older than this"
    )
    report_url: str | None = option(
        None, OrNull(Text()), "where the published report lives, shown on `GET /`"
    )


@dataclass(frozen=True)
class InstallTestConfig:
    """What the published install-test.py sends to (``generator.install_test``)."""

    url: str = option("", WebAddress(), "the collector's public address")
    key: str = option("", Text(), "a submission key (public: a filter, not a secret)")


@dataclass(frozen=True)
class GeneratorConfig:
    """The nightly build of the report site (``generator``)."""

    submissions_dir: Path = option("submissions", FilePath(), "the submissions folder it reads")
    site_dir: Path = option("site", FilePath(), "where the site is published")
    cache_dir: Path = option(
        "build-cache",
        FilePath(),
        "each folder's parsed files, kept between builds; holds emails, may be deleted any time",
    )
    title: str = option("Installation test results", Text(), "the site's title")
    collector_url: str | None = option(
        None,
        OrNull(Text()),
        "the collector's public address, shown on the submit page (null: not configured)",
    )
    min_workshop_participants: int = option(
        1, Integer(1), "smaller workshops get no page of their own (public sites: 3 or more)"
    )
    max_file_bytes: int = option(
        MAX_FILE_BYTES,
        Integer(1024),
        "larger submission files are skipped unread, by the build and by `collector forget`"
        " and `prune` too",
    )
    events: DatedLabels = option(
        {},
        Dated(),
        "what happened when (date: label), marked on the time charts and compared before and after",
    )
    install_test: InstallTestConfig | None = option(
        None,
        OrNull(Section(InstallTestConfig)),
        "`url` and `key` written into the published `site/install-test.py`; null: no such"
        " file (docs/install-test.md)",
    )
    package_aliases: Mapping[str, str] = option(
        {},
        TextMapping("name or key", "key"),
        "count these names or keys as the package of another key, e.g. `{Make: make}`",
    )
    help_urls: Mapping[str, str] = option(
        {},
        TextMapping("package key", "http(s) URL", links=True),
        "fix instructions per package key, linked first on its pages, e.g. `{git: https://...}`",
    )


@dataclass(frozen=True)
class Config:
    """The whole file: its two sections, and the path it was read from."""

    path: Path
    collector: CollectorConfig = section(CollectorConfig)
    generator: GeneratorConfig = section(GeneratorConfig)


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
        keys.update(Secrets().check(KEYS_ENV, {name.strip(): secret}, None))
    return keys


def _keys_from_file(path: Path) -> dict[str, str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"collector.keys_file: file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"collector.keys_file: cannot read {path}: {_one_line(exc)}") from None
    except yaml.YAMLError as exc:  # what and where only: PyYAML would quote the secret's line
        raise ConfigError(
            f"collector.keys_file: {path} is not valid YAML: {_yaml_problem(exc)}"
        ) from None
    return Secrets().check(f"keys_file {path}", data, path.parent)


# In PyYAML's problem text, a quoted name it found (an alias, a tag) may be a secret that
# starts with * or !; one or two quoted characters, or a '<token>' of its own, are not.
_QUOTED_NAME = re.compile(r"'(?!<)[^']{3,}'")


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """What PyYAML found and where, without its dump of the offending text or names in it."""
    mark = getattr(exc, "problem_mark", None)
    problem = _QUOTED_NAME.sub("'...'", getattr(exc, "problem", None) or _one_line(exc))
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
    sections = check_section("", data, path.parent, Config)
    collector: CollectorConfig = sections["collector"]
    keys = dict(collector.keys)
    if collector.keys_file is not None:
        keys.update(_keys_from_file(collector.keys_file))
    keys.update(_keys_from_env(environ))
    id_secret = environ.get(ID_SECRET_ENV, "").strip() or None
    return Config(
        path=path,
        collector=replace(collector, keys=keys, id_secret=id_secret),
        generator=sections["generator"],
    )


if __name__ == "__main__":  # the README's "Configuration" table, from the declarations above
    print(markdown_table(Config), end="")
