"""The shared config loader: every problem is one line naming the key; paths and secrets resolve."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest

from installdata.config import ConfigError, load_config
from support import REPO_ROOT as REPO


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_loads_with_contract_defaults() -> None:
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
        ("collector:\n  keys:\n    demo: short\n", "collector.keys.demo: expected a secret"),
        ("collector:\n  keys_file: missing.yaml\n", "collector.keys_file: file not found"),
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
