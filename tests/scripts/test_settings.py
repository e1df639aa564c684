"""Configuration: config/scripts.yaml loads and mirrors the defaults; a missing key keeps its default."""

from __future__ import annotations

from pathlib import Path

import pytest

from livecs.scripts.settings import DEFAULT_CONFIG_PATH, ScriptsConfig, default_config


def test_shipped_config_loads_and_mirrors_defaults() -> None:
    shipped = ScriptsConfig.load(DEFAULT_CONFIG_PATH)
    defaults = ScriptsConfig()
    assert shipped.limits == defaults.limits
    assert shipped.lint.severity == defaults.lint.severity
    assert shipped.matcher == defaults.matcher
    assert (shipped.config_dir / shipped.lint.ad_law_terms_file).exists()
    assert default_config().matcher.cache_size == shipped.matcher.cache_size


def test_partial_file_keeps_defaults(tmp_path: Path) -> None:
    path = tmp_path / "scripts.yaml"
    path.write_text("lint:\n  severity: {ad_law: error}\nmatcher: {min_score: 0.3}\n", encoding="utf-8")
    cfg = ScriptsConfig.load(path)
    assert cfg.lint.severity_of("ad_law") == "error"
    assert cfg.matcher.min_score == 0.3
    assert cfg.limits.max_file_bytes == ScriptsConfig().limits.max_file_bytes
    assert cfg.config_dir == tmp_path


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ScriptsConfig.load(tmp_path / "nope.yaml")


def test_environment_overrides_scripts_yaml() -> None:
    from livecs.scripts.settings import ScriptsConfig

    base = ScriptsConfig.load(environ={})
    cfg = ScriptsConfig.load(
        environ={
            "LIVECS_SCRIPTS_LIMITS__MAX_SCRIPTS": "7",
            "LIVECS_SCRIPTS__LIBRARY_DB": "/tmp/not-ours.db",  # livecs.yaml's `scripts` section, ignored here
        }
    )
    assert cfg.limits.max_scripts == 7 != base.limits.max_scripts
