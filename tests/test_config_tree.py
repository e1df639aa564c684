"""The one settings tree: section files included, paths resolved against the file that sets them, one
environment rule as deep as the tree goes, the old per-file variable names still read, the shipped files
telling the defaults, and every key doing something (referenced outside the settings modules)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from livecs.config import ConfigError, Settings, load_settings
from livecs.paths import ROOT
from livecs.triage.settings import TriageSettings

PACKAGE = ROOT / "livecs"
#: the modules that define the settings models (a field's own definition is no use of it)
SETTINGS_MODULES = {PACKAGE / "config.py", *PACKAGE.glob("*/settings.py")}


def _fields(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted key, field name) of every key of the tree, sections included."""
    for name, field in model.model_fields.items():
        yield prefix + name, name
        sub = field.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            yield from _fields(sub, f"{prefix}{name}.")


def test_every_key_is_used_outside_the_settings_modules() -> None:
    """A key nobody reads is a knob that does nothing (issue 14: coupons.timezone_offset_hours,
    review.progress_interval_s were): every field must be read as ``.name`` (or named as ``"name"``)."""
    code = "\n".join(
        p.read_text(encoding="utf-8")
        for p in PACKAGE.rglob("*.py")
        if p not in SETTINGS_MODULES and not p.name.endswith("_pb2.py")
    )
    unused = [
        dotted for dotted, name in _fields(Settings) if not re.search(rf"\.{name}\b|[\"']{name}[\"']", code)
    ]
    assert unused == []


def test_the_shipped_files_tell_the_defaults() -> None:
    """config/*.yaml mirror the models' defaults (relative paths resolve to the same files)."""
    assert load_settings(environ={}).model_dump() == Settings().model_dump()


def test_sections_include_their_files_and_paths_follow_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "conf"
    (conf / "parts").mkdir(parents=True)
    (conf / "parts" / "scripts.yaml").write_text(
        "lint: {ad_law_terms_file: terms.yaml}\nmatcher: {min_score: 0.3}\nshop: from-file\n",
        encoding="utf-8",
    )
    (conf / "parts" / "triage.yaml").write_text("spam: {gibberish_run: 9}\n", encoding="utf-8")
    main = conf / "livecs.yaml"
    main.write_text(
        "store: {path: ../data/rec.db}\n"
        "scripts:\n  include: parts/scripts.yaml\n  shop: beside-include\n  bootstrap: [lib/a.yaml]\n"
        "triage: {include: parts/triage.yaml}\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path / "conf" / "parts")  # the working directory plays no part
    s = load_settings(main, environ={})
    assert s.store.path == str(tmp_path / "data" / "rec.db")
    assert s.scripts.bootstrap == [str(conf / "lib" / "a.yaml")]
    assert s.scripts.lint.ad_law_terms_file == str(conf / "parts" / "terms.yaml")  # beside its own file
    assert s.scripts.matcher.min_score == 0.3 and s.scripts.shop == "beside-include"  # the keys beside win
    assert s.triage.spam.gibberish_run == 9
    (conf / "parts" / "triage.yaml").unlink()
    with pytest.raises(ConfigError, match=r"triage\.include: no such file"):
        load_settings(main, environ={})


def test_a_relative_path_from_the_environment_is_taken_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={"LIVECS_STORE__PATH": "rec.db", "LIVECS_SCRIPTS__BOOTSTRAP": "[a.yaml]"})
    assert s.store.path == str(tmp_path / "rec.db") and s.scripts.bootstrap == [str(tmp_path / "a.yaml")]


def test_one_environment_rule_as_deep_as_the_tree() -> None:
    s = load_settings(
        environ={
            "LIVECS_TRIAGE__SPAM__GIBBERISH_RUN": "10",
            "LIVECS_SCRIPTS__MATCHER__MIN_SCORE": "0.2",
            "LIVECS_SCRIPTS__COUPONS__TIMEZONE_OFFSET_HOURS": "0",
            "LIVECS_REVIEW__TOP_CLUSTERS": "3",
            "LIVECS_CONSOLE__TICKETS__RESOLUTION_H": "48",
        }
    )
    assert s.triage.spam.gibberish_run == 10 and s.scripts.matcher.min_score == 0.2
    assert s.scripts.coupons.timezone_offset_hours == 0 and s.review.top_clusters == 3
    assert s.console.tickets.resolution_h == 48
    with pytest.raises(ConfigError) as exc:
        load_settings(environ={"LIVECS_TRIAGE__SPAM__GIBBERISH_RUN": "lots"})
    assert "triage.spam.gibberish_run" in str(exc.value)
    assert "LIVECS_TRIAGE__SPAM__GIBBERISH_RUN" in str(exc.value)


def test_a_typo_in_a_section_file_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "triage.yaml").write_text("cluster: {windw_s: 5}\n", encoding="utf-8")
    main = tmp_path / "livecs.yaml"
    main.write_text("triage: {include: triage.yaml}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"triage\.cluster\.windw_s"):
        load_settings(main, environ={})


def test_old_variable_names_still_read_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="livecs.config"):
        s = load_settings(
            environ={"LIVECS_TRIAGE_CLUSTER__WINDOW_S": "60", "LIVECS_SCRIPTS_LIMITS__MAX_SCRIPTS": "7"}
        )
    assert s.triage.cluster.window_s == 60 and s.scripts.limits.max_scripts == 7
    assert "LIVECS_TRIAGE__CLUSTER__WINDOW_S" in caplog.text
    new_wins = load_settings(
        environ={"LIVECS_TRIAGE_CLUSTER__WINDOW_S": "60", "LIVECS_TRIAGE__CLUSTER__WINDOW_S": "30"}
    )
    assert new_wins.triage.cluster.window_s == 30


def test_train_variants_override_a_copy() -> None:
    from livecs.triage.commands import _parse_variant

    name, overrides = _parse_variant("odds:intent.negative_odds=1.3,cluster.similarity=80")
    base = TriageSettings()
    before = base.model_dump()
    variant = base.with_overrides(overrides)
    assert name == "odds" and variant.intent.negative_odds == 1.3 and variant.cluster.similarity == 80
    assert base.model_dump() == before and base.intent.negative_odds == 0.5  # the base is untouched
    with pytest.raises(ValidationError):
        base.with_overrides({"intent.negative_odz": 2})
    with pytest.raises(ValueError, match="not a section"):
        base.with_overrides({"nosuch.key": 1})


def test_the_running_registry_takes_the_scripts_section(tmp_path: Path) -> None:
    """The processing stage's library registry (and so its matcher, lint and coupon dates) is built from the
    loaded ``scripts`` section, not from the defaults."""
    from livecs.processor.live import open_registry

    s = load_settings(
        environ={
            "LIVECS_SCRIPTS__LIBRARY_DB": str(tmp_path / "lib.db"),
            "LIVECS_SCRIPTS__MATCHER__MIN_SCORE": "0.3",
            "LIVECS_SCRIPTS__COUPONS__TIMEZONE_OFFSET_HOURS": "0",
        }
    )
    registry = open_registry(s.scripts)
    assert registry.config.matcher.min_score == 0.3
    assert registry.matcher is not None and registry.matcher.config.matcher.min_score == 0.3
    library = registry.matcher.library
    offsets = {c.valid_from.utcoffset() for c in library.coupons if c.valid_from is not None}
    assert offsets == {timedelta(0)}  # the bootstrap library's naive dates, read at UTC+0 as configured


def test_starting_on_a_library_activated_earlier_says_which_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A demo after the merchant page activated another library answered with it and said nothing (the
    bootstrap line is logged only into an empty registry): the start names the active version."""
    from livecs.processor.live import open_registry

    s = load_settings(environ={"LIVECS_SCRIPTS__LIBRARY_DB": str(tmp_path / "lib.db")})
    first = open_registry(s.scripts)
    folder = ROOT / "scripts_library" / "skincare"
    skincare = first.upload_paths([folder / f for f in ("library.yaml", "catalogue.yaml", "coupons.yaml")])
    assert skincare.version_id is not None
    first.activate(skincare.version_id)
    with caplog.at_level(logging.INFO, logger="livecs.processor.live"):
        again = open_registry(s.scripts)
    assert again.active_version == skincare.version_id
    assert any(f"library: version {skincare.version_id} 「" in r.getMessage() for r in caplog.records)
