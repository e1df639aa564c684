"""Versions: upload (validated), activate, rollback, persistence, atomic swap while matching goes on."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from livecs.errors import ConfirmationRequired, ConfirmationStale
from livecs.models import Intent
from livecs.scripts.matcher import ScriptMatcher
from livecs.scripts.versions import LibraryRegistry, RegistryError

from .conftest import APPAREL, NOW, SKINCARE, make_comment, make_triage, yaml_files


def _files(directory: Path) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in yaml_files(directory)]


def test_upload_activate_rollback(tmp_path: Path) -> None:
    db = tmp_path / "versions.sqlite3"
    reg = LibraryRegistry(db, shop="demo")
    assert reg.matcher is None
    bad = reg.upload(
        [("bad.yaml", b"library: {name: x}\nscripts:\n  - {id: a, intents: [nope], reply: x}\n")]
    )
    assert bad.version_id is None and bad.issues
    v1 = reg.upload(_files(APPAREL), uploaded_by="merchant").version_id
    v2 = reg.upload(_files(SKINCARE), uploaded_by="merchant").version_id
    assert v1 and v2 and v2 > v1
    assert reg.matcher is None  # uploading does not activate
    reg.activate(v1)
    reg.set_on_air(2)
    assert reg.matcher.library.library.category == "apparel"
    v1_again = reg.upload(_files(APPAREL), uploaded_by="merchant", name="again").version_id
    assert v1_again
    reg.activate(v1_again)
    assert reg.matcher.library.on_air_link == 2  # the same product at link 2: it stays on air
    reg.activate(v2)
    assert reg.active_version == v2
    # skincare's link 2 is another product: nobody chose it for the show (the walk-through's finding)
    assert reg.matcher.library.on_air_link is None
    assert reg.rollback(token=reg.rollback_preview().token) == v1_again
    assert reg.matcher.library.library.category == "apparel"
    assert [v.active for v in reg.versions()] == [False, False, True]
    # a new registry on the same file comes back with the active version
    again = LibraryRegistry(db, shop="demo")
    assert again.active_version == v1_again
    with pytest.raises(RegistryError):
        again.activate(999)
    with pytest.raises(RegistryError):
        LibraryRegistry(db, shop="other").rollback()


def test_swap_is_atomic_under_load(tmp_path: Path) -> None:
    reg = LibraryRegistry(tmp_path / "v.sqlite3")
    v1 = reg.upload(_files(APPAREL)).version_id
    v2 = reg.upload(_files(SKINCARE)).version_id
    reg.activate(v1)
    apparel_ids = {s.id for s in reg.library(v1).scripts}
    skincare_ids = {s.id for s in reg.library(v2).scripts}
    stop = threading.Event()
    errors: list[str] = []
    matched = [0]

    def matching() -> None:
        comment = make_comment("包邮吗")
        triage = make_triage("包邮吗", Intent.LOGISTICS)
        while not stop.is_set():
            matcher = reg.matcher  # one read per comment
            out = matcher.match(comment, triage, now=NOW)
            ids = {s.script_id for s in out}
            if not out or not (ids <= apparel_ids or ids <= skincare_ids):
                errors.append(repr(ids))
            matched[0] += 1

    thread = threading.Thread(target=matching)
    thread.start()
    for i in range(10):
        reg.activate(v2 if i % 2 == 0 else v1)
    stop.set()
    thread.join()
    assert errors == []
    assert matched[0] > 0


def test_refresh_picks_up_another_process_activation(tmp_path: Path) -> None:
    db = tmp_path / "v.sqlite3"
    console = LibraryRegistry(db)
    worker = LibraryRegistry(db)
    v1 = console.upload(_files(APPAREL)).version_id
    assert worker.refresh() is False
    console.activate(v1)
    assert worker.matcher is None
    assert worker.refresh() is True and worker.active_version == v1
    assert worker.refresh() is False


def test_rollback_needs_a_confirmation_of_this_change(tmp_path: Path) -> None:
    reg = LibraryRegistry(tmp_path / "v.sqlite3")
    v1 = reg.upload(_files(APPAREL), uploaded_by="merchant", name="六月版").version_id
    v2 = reg.upload(_files(SKINCARE), uploaded_by="merchant").version_id
    assert v1 and v2
    reg.activate(v1)
    reg.activate(v2)
    preview = reg.rollback_preview()
    assert (preview.active_id, preview.target.version_id, preview.target.name) == (v2, v1, "六月版")
    counts = preview.counts()
    assert counts["scripts"]["added"] == len(
        {s.id for s in reg.library(v1).scripts} - {s.id for s in reg.library(v2).scripts}
    )
    with pytest.raises(ConfirmationRequired):
        reg.rollback()
    with pytest.raises(ConfirmationRequired):
        reg.rollback(version=v1)  # the version alone is not a confirmation
    with pytest.raises(ConfirmationStale):
        reg.rollback(version=v2, confirm=True)  # not where a rollback goes
    with pytest.raises(ConfirmationStale):
        reg.rollback(token="0" * 16)
    assert reg.active_version == v2
    assert reg.rollback(version=v1, confirm=True) == v1
    with pytest.raises(ConfirmationStale):  # that confirmation was for 2 → 1, which is done
        reg.rollback(token=preview.token)


def test_an_activation_between_check_and_write_makes_the_rollback_stale(tmp_path: Path) -> None:
    """Another process activates while this one builds the rollback's matcher (outside the lock): the
    rollback's transaction sees it and records nothing."""
    db = tmp_path / "v.sqlite3"
    reg = LibraryRegistry(db)
    other = LibraryRegistry(db)
    v1 = reg.upload(_files(APPAREL)).version_id
    v2 = reg.upload(_files(SKINCARE)).version_id
    assert v1 and v2
    reg.activate(v1)
    reg.activate(v2)
    token = reg.rollback_preview().token
    build = reg._build

    def build_while_other_activates(version_id: int) -> ScriptMatcher:
        other.activate(v1, by="other process")
        return build(version_id)

    reg._build = build_while_other_activates  # type: ignore[method-assign]
    with pytest.raises(ConfirmationStale):
        reg.rollback(token=token)
    kinds = [a["kind"] for a in reg.activations()]
    assert kinds == ["activate", "activate", "activate"]  # no rollback recorded
