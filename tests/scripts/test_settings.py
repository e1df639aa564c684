"""Configuration: config/scripts.yaml (the `scripts` section's tunables) loads into the one settings tree
and mirrors the defaults; a missing key keeps its default; the environment overrides it."""

from __future__ import annotations

from pathlib import Path

from livecs.config import load_settings
from livecs.paths import CONFIG_DIR
from livecs.scripts.settings import ScriptsSettings


def test_shipped_config_loads_and_mirrors_defaults() -> None:
    shipped = load_settings(environ={}).scripts
    defaults = ScriptsSettings()
    assert shipped == defaults  # every key of config/scripts.yaml and livecs.yaml's scripts section
    assert Path(shipped.lint.ad_law_terms_file) == CONFIG_DIR / "ad_law_terms.yaml"
    assert Path(shipped.lint.ad_law_terms_file).exists()


def test_partial_file_keeps_defaults(tmp_path: Path) -> None:
    (tmp_path / "scripts.yaml").write_text(
        "lint:\n  severity: {ad_law: error}\n  ad_law_terms_file: terms.yaml\nmatcher: {min_score: 0.3}\n",
        encoding="utf-8",
    )
    main = tmp_path / "livecs.yaml"
    main.write_text("scripts:\n  include: scripts.yaml\n", encoding="utf-8")
    cfg = load_settings(main, environ={}).scripts
    assert cfg.lint.severity_of("ad_law") == "error"
    assert cfg.matcher.min_score == 0.3
    assert cfg.limits.max_file_bytes == ScriptsSettings().limits.max_file_bytes
    assert cfg.lint.ad_law_terms_file == str(tmp_path / "terms.yaml")  # beside the file that names it


def test_environment_overrides_scripts_yaml() -> None:
    base = load_settings(environ={}).scripts
    cfg = load_settings(
        environ={"LIVECS_SCRIPTS__LIMITS__MAX_SCRIPTS": "7", "LIVECS_SCRIPTS__LIBRARY_DB": "/tmp/not-ours.db"}
    ).scripts
    assert cfg.limits.max_scripts == 7 != base.limits.max_scripts
    assert cfg.library_db == "/tmp/not-ours.db"
