"""The shared config loader: every problem is one line naming the key; paths and secrets resolve.

The options are declared once (installdata/config.py); the tests at the end hold the
commented config.yaml, the deployment's example and the README's table to those declarations.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from installdata.config import CollectorConfig, Config, ConfigError, GeneratorConfig, load_config
from installdata.options import leaves, markdown_table
from support import REPO_ROOT as REPO

#: Every option by its dotted key, with its default as written in YAML.
DEFAULTS = {key: declared.default for key, declared in leaves(Config)}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_loads_with_the_documented_values() -> None:
    config = load_config(REPO / "config.yaml", environ={})
    c = config.collector
    assert (c.host, c.port, c.max_body_bytes) == ("127.0.0.1", 8080, 262144)
    assert c.keys == {"demo": "demo-key-change-me"}
    assert (c.rate_limit.requests, c.rate_limit.per_seconds) == (100, 3600)
    assert c.trusted_proxies == ()
    assert c.submissions_dir == REPO / "submissions"
    assert config.generator.site_dir == REPO / "site"
    assert config.generator.title == "Installation test results"


def test_empty_file_gives_defaults_relative_to_config_folder(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""), environ={})
    assert config.collector.submissions_dir == tmp_path / "submissions"
    assert config.collector.id_secret_file == tmp_path / ".collector-secret"
    assert config.generator.submissions_dir == tmp_path / "submissions"
    assert config.collector.keys == {}


def test_relative_paths_resolve_against_config_folder_not_cwd(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "etc").mkdir()
    path = tmp_path / "etc" / "c.yaml"
    path.write_text("collector:\n  submissions_dir: ../data\ngenerator:\n  site_dir: out\n")
    monkeypatch.chdir("/")
    config = load_config(path, environ={})
    assert config.collector.submissions_dir == tmp_path / "data"
    assert config.generator.site_dir == tmp_path / "etc" / "out"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("collectr: {}\n", "collectr: unknown key"),
        ("collector:\n  prot: 80\n", "collector.prot: unknown key"),
        ("collector:\n  port: eighty\n", "collector.port: expected"),
        ("collector:\n  port: 70000\n", "collector.port: expected a port"),
        ("collector:\n  rate_limit:\n    requests: 0\n", "collector.rate_limit.requests: expected"),
        (
            "collector:\n  rate_limit:\n    per_second: 5\n",
            "collector.rate_limit.per_second: unknown",
        ),
        ("collector:\n  allow_anonymous: 'yes'\n", "collector.allow_anonymous: expected true"),
        ("collector:\n  trusted_proxies: [not-an-ip]\n", "collector.trusted_proxies: expected"),
        (
            "collector:\n  rate_limit:\n    overrides: {room-12: 500}\n",
            "collector.rate_limit.overrides: expected IP networks such as 203.0.113.0/24",
        ),
        (
            "collector:\n  rate_limit:\n    overrides: {203.0.113.0/24: 0}\n",
            "collector.rate_limit.overrides.203.0.113.0/24: expected an integer >= 1, got 0",
        ),
        ("collector:\n  rate_limit:\n    overrides: [1]\n", "overrides: expected a mapping"),
        ("collector:\n  keys:\n    demo: short\n", "collector.keys.demo: expected a secret"),
        ("collector:\n  keys_file: missing.yaml\n", "collector.keys_file: file not found"),
        ("collector:\n  retention_days: 0\n", "collector.retention_days: expected an integer >= 1"),
        ("collector:\n  report_url: ''\n", "collector.report_url: expected a non-empty string"),
        ("collector:\n  port: null\n", "collector.port: expected an integer >= 0, got None"),
        ("generator:\n  title: ''\n", "generator.title: expected a non-empty string"),
        ("generator: [1, 2]\n", "generator: expected a mapping"),
        ("- just\n- a list\n", "config: expected a mapping"),
        ("collector: {port: [\n", "is not valid YAML"),
    ],
)
def test_bad_config_is_one_line_naming_the_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml", environ={})


def test_secrets_from_keys_file_and_environment(tmp_path: Path) -> None:
    (tmp_path / "keys.yaml").write_text("workshops: file-secret-123\n")
    path = write(tmp_path, "collector:\n  keys: {demo: config-secret}\n  keys_file: keys.yaml\n")
    environ = {
        "COLLECTOR_KEYS": "ci=env-secret-456, demo=env-overrides-it",
        "COLLECTOR_ID_SECRET": "signing-secret",
    }
    c = load_config(path, environ=environ).collector
    assert c.keys == {
        "demo": "env-overrides-it",
        "workshops": "file-secret-123",
        "ci": "env-secret-456",
    }
    assert c.id_secret == "signing-secret"


def test_bad_keys_environment_variable_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="COLLECTOR_KEYS") as refused:
        load_config(write(tmp_path, ""), environ={"COLLECTOR_KEYS": "no-equals-sign"})
    assert "no-equals-sign" not in str(refused.value)  # a bare secret is never echoed


def test_keys_that_are_not_a_mapping_are_reported_without_the_secret(tmp_path: Path) -> None:
    path = write(tmp_path, "collector:\n  keys: just-the-secret-value\n")
    with pytest.raises(ConfigError, match=r"collector\.keys: expected a mapping") as refused:
        load_config(path, environ={})
    assert "just-the-secret-value" not in str(refused.value)


def test_trusted_proxies_accept_addresses_and_networks(tmp_path: Path) -> None:
    path = write(tmp_path, "collector:\n  trusted_proxies: [127.0.0.1, 10.0.0.0/8, '::1']\n")
    proxies = load_config(path, environ={}).collector.trusted_proxies
    assert ipaddress.ip_address("10.1.2.3") in proxies[1]
    assert len(proxies) == 3


@pytest.mark.parametrize("module", ["collector", "generator"])
def test_cli_reports_bad_config_in_one_line_without_traceback(tmp_path: Path, module: str) -> None:
    path = write(tmp_path, "collector:\n  port: nope\n")
    command = "serve" if module == "collector" else "build"
    done = subprocess.run(
        [sys.executable, "-m", module, command, "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: collector.port: expected an integer >= 0, got 'nope'"
    ]
    assert "Traceback" not in done.stderr


def test_wrong_type_names_the_key_what_it_expects_and_what_it_got(tmp_path: Path) -> None:
    path = write(tmp_path, "collector:\n  rate_limit:\n    requests: many\n")
    with pytest.raises(ConfigError) as refused:
        load_config(path, environ={})
    assert str(refused.value) == (
        "collector.rate_limit.requests: expected an integer >= 1, got 'many'"
    )


def test_unknown_key_lists_the_known_keys_of_its_section(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(write(tmp_path, "collector:\n  rate_limit:\n    request: 5\n"), environ={})
    assert str(refused.value) == (
        "collector.rate_limit.request: unknown key"
        " (known keys here: max_clients, overrides, per_seconds, requests)"
    )


def test_first_problem_in_file_order_is_the_one_named(tmp_path: Path) -> None:
    path = write(tmp_path, "collector:\n  port: nope\n  prot: 80\n")
    with pytest.raises(ConfigError, match=r"^collector\.port: expected"):
        load_config(path, environ={})


def test_null_means_off_where_an_option_allows_it(tmp_path: Path) -> None:
    text = "collector:\n  keys_file: null\n  retention_days: null\n  trusted_proxies: null\n"
    c = load_config(write(tmp_path, text), environ={}).collector
    assert (c.keys_file, c.retention_days, c.trusted_proxies, c.keys) == (None, None, (), {})


@pytest.mark.parametrize(
    "line",
    [
        "demo: the-secret-value: oops",  # PyYAML would quote the line
        "demo: *the-secret-value",  # ... the name of an undefined alias
        "demo: !the-secret-value",  # ... the tag it cannot construct
        "demo: !!python/object:the-secret-value {}",
    ],
    ids=["line", "alias", "tag", "python tag"],
)
@pytest.mark.parametrize("where", ["keys_file", "config.yaml"])
def test_yaml_errors_never_show_the_text_they_stumbled_on(
    tmp_path: Path, line: str, where: str
) -> None:
    if where == "keys_file":
        (tmp_path / "keys.yaml").write_text(line + "\n")
        path = write(tmp_path, "collector:\n  keys_file: keys.yaml\n")
        where = r"collector\.keys_file: .*"
    else:
        path = write(tmp_path, "collector:\n  keys:\n    " + line + "\n")
        where = r"config\.yaml"
    with pytest.raises(
        ConfigError, match=where + r" is not valid YAML: .*\(line \d+, column \d+\)$"
    ) as bad:
        load_config(path, environ={})
    assert "the-secret-value" not in str(bad.value)
    assert "\n" not in str(bad.value)


def test_short_secrets_are_refused_without_the_secret(tmp_path: Path) -> None:
    (tmp_path / "keys.yaml").write_text("demo: Xq7zk9w\n")
    for text, environ in [
        ("collector:\n  keys: {demo: Xq7zk9w}\n", {}),
        ("collector:\n  keys_file: keys.yaml\n", {}),
        ("", {"COLLECTOR_KEYS": "demo=Xq7zk9w"}),
    ]:
        with pytest.raises(ConfigError, match="expected a secret of at least 8") as refused:
            load_config(write(tmp_path, text), environ=environ)
        assert "Xq7zk9w" not in str(refused.value)


def test_objects_built_in_code_keep_the_declared_defaults_with_relative_paths() -> None:
    collector, generator = CollectorConfig(), GeneratorConfig()
    assert collector.submissions_dir == Path("submissions")
    assert collector.id_secret_file == Path(".collector-secret")
    assert (collector.rate_limit.requests, collector.keys, collector.id_secret) == (100, {}, None)
    assert generator.site_dir == Path("site")
    with pytest.raises(dataclasses.FrozenInstanceError):
        collector.port = 80  # type: ignore[misc]


def test_a_loaded_file_gives_each_declared_default(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""), environ={})
    assert config.collector == CollectorConfig(
        submissions_dir=tmp_path / "submissions", id_secret_file=tmp_path / ".collector-secret"
    )
    assert config.generator == GeneratorConfig(
        submissions_dir=tmp_path / "submissions",
        site_dir=tmp_path / "site",
        cache_dir=tmp_path / "build-cache",
    )


# --- the documentation follows the declarations -------------------------------------------


def yaml_options(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A config file's options by dotted key; a section (a prefix of options) is opened."""
    found: dict[str, Any] = {}
    for name, value in data.items():
        key = f"{prefix}.{name}" if prefix else name
        if any(option.startswith(f"{key}.") for option in DEFAULTS):
            found.update(yaml_options(value, key))
        else:
            found[key] = value
    return found


def test_shipped_config_names_every_key_with_its_default() -> None:
    shipped = yaml_options(yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8")))
    # The one exception: the demo's key. With none (the default) the collector would not start.
    assert shipped.pop("collector.keys") == {"demo": "demo-key-change-me"}
    assert shipped == {key: value for key, value in DEFAULTS.items() if key != "collector.keys"}


def test_deployment_example_names_every_key() -> None:
    example = REPO / "deploy" / "config.example.yaml"
    assert set(yaml_options(yaml.safe_load(example.read_text(encoding="utf-8")))) == set(DEFAULTS)


def test_readme_configuration_table_is_what_the_declarations_say() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    table = "".join(line + "\n" for line in section.splitlines() if line.startswith("|"))
    assert table == markdown_table(Config), (
        "README.md's configuration table is not what installdata/config.py declares: "
        "replace it with the output of `.venv/bin/python -m installdata.config`"
    )


def test_every_option_has_a_one_line_doc_that_fits_a_table_row() -> None:
    for key, declared in leaves(Config):
        assert declared.doc.strip() and "|" not in declared.doc and "\n" not in declared.doc, key
