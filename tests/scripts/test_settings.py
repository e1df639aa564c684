"""Configuration: config/scripts.yaml (the `scripts` section's tunables) loads into the one settings tree
and mirrors the defaults; a missing key keeps its default; the environment overrides it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from livecs.config import load_settings
from livecs.paths import CONFIG_DIR
from livecs.scripts.settings import ScriptsSettings
from livecs.scripts.validate import load_bytes


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


COUPON_LIBRARY = """\
library: {name: 测试店}
scripts:
  - {id: s1, intents: [product], keywords: [尺码], reply: 亲，M码}
coupons:
  - {id: flash, name: 限时折扣, type: 限时折扣, percent_off: 10, stock: 5,
     valid_from: "2025-06-01 20:00", valid_until: "2025-06-01 22:00"}
"""


def test_coupon_dates_are_read_in_the_shops_time_zone() -> None:
    """``scripts.coupons.timezone_offset_hours``: a naive 20:00 is 20:00 in the shop (UTC+8 by default)."""
    files = [("lib.yaml", COUPON_LIBRARY.encode("utf-8"))]
    china = load_bytes(files).library
    utc = load_bytes(files, ScriptsSettings.model_validate({"coupons": {"timezone_offset_hours": 0}})).library
    assert china is not None and utc is not None
    start_china, start_utc = china.coupons[0].valid_from, utc.coupons[0].valid_from
    assert start_china is not None and start_utc is not None
    assert start_china == datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert start_utc == datetime(2025, 6, 1, 20, 0, tzinfo=UTC)
    aware = COUPON_LIBRARY.replace('"2025-06-01 20:00"', '"2025-06-01T20:00+09:00"')
    kept = load_bytes([("lib.yaml", aware.encode("utf-8"))]).library
    assert kept is not None and kept.coupons[0].valid_from == datetime(2025, 6, 1, 11, 0, tzinfo=UTC)
