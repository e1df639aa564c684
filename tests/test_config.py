"""Configuration loads, takes LIVECS_* overrides and fails with a message naming the key."""

from pathlib import Path

import pytest

from livecs.config import ConfigError, load_settings


def test_shipped_config_is_valid() -> None:
    s = load_settings(environ={})
    assert s.bus.queue_size > 0 and s.store.path


def test_env_overrides_nested_keys() -> None:
    s = load_settings(
        environ={"LIVECS_BUS__QUEUE_SIZE": "7", "LIVECS_PIPELINE__SHED_DISPLAY_PRIORITIES": "[P2, P3]"}
    )
    assert s.bus.queue_size == 7
    assert s.pipeline.shed_display_priorities == ["P2", "P3"]


def test_bad_value_names_key_and_env_variable() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(environ={"LIVECS_BUS__QUEUE_SIZE": "lots"})
    assert "bus.queue_size" in str(exc.value) and "LIVECS_BUS__QUEUE_SIZE" in str(exc.value)


def test_unknown_key_and_broken_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("bus:\n  queue_sise: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="queue_sise"):
        load_settings(bad, environ={})
    bad.write_text("bus: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(bad, environ={})
    with pytest.raises(ConfigError, match="no such"):
        load_settings(tmp_path / "missing.yaml", environ={})
