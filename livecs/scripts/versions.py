"""Library versions and hot reload: upload → validated version, activate, roll back, atomic matcher swap.

Versions live in a SQLite file given by the caller (tables ``library_versions`` and ``library_activations``;
nothing else in it is touched). Uploading validates and lints first: a library with errors never becomes a
version. Activating builds the new :class:`~livecs.scripts.matcher.ScriptMatcher` completely, *then* swaps one
reference — a comment being matched keeps the matcher it started with, the next one gets the new one, so
nothing is dropped, delayed or matched against a half-loaded library. The product on air carries over.

Rolling back is confirmed, not only asked about: :meth:`LibraryRegistry.rollback_preview` says which
version it would re-activate (number, name, when and by whom uploaded, what it adds and removes against the
active one) and gives a token naming exactly that change; :meth:`LibraryRegistry.rollback` needs that token,
or the target version with ``confirm=True``, and refuses a token made stale by any activation since the
preview.
"""

from __future__ import annotations

import hashlib
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from livecs.errors import ConfirmationRequired, ConfirmationStale, ErrorCode, LivecsError
from livecs.scripts.library import Library
from livecs.scripts.matcher import ScriptMatcher
from livecs.scripts.report import Issue, has_errors
from livecs.scripts.settings import ScriptsSettings
from livecs.scripts.terms import TERM_CODES, term_gate
from livecs.scripts.validate import check_bytes

log = logging.getLogger("livecs.scripts.versions")

SCHEMA = """
CREATE TABLE IF NOT EXISTS library_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shop TEXT NOT NULL,
    created_at REAL NOT NULL,
    uploaded_by TEXT NOT NULL DEFAULT '',
    sources TEXT NOT NULL DEFAULT '',
    sha256 TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    warnings INTEGER NOT NULL DEFAULT 0,
    library_json TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS library_activations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shop TEXT NOT NULL,
    version_id INTEGER NOT NULL REFERENCES library_versions(id),
    activated_at REAL NOT NULL,
    activated_by TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS library_activations_shop ON library_activations(shop, id);
"""
SQLITE_TIMEOUT_S = 10.0
VERSION_NAME_MAX = 80
#: What a diff lists per section (the rest is counted).
DIFF_LISTED = 20
#: hex digits of a rollback confirmation token
ROLLBACK_TOKEN_HEX = 16


def diff_libraries(
    old: Library | None, new: Library, *, listed: int | None = DIFF_LISTED
) -> dict[str, dict[str, list[str]]]:
    """What ``new`` changes against ``old`` (the active version): per section the ids added, removed and
    changed (at most ``listed`` of each; ``None``: all); a product's price and stock changes are spelled out
    (``NY-D01 价格 129→119``)."""
    sections: dict[str, tuple[dict[str, object], dict[str, object]]] = {
        "scripts": ({s.id: s for s in old.scripts} if old else {}, {s.id: s for s in new.scripts}),
        "products": ({p.sku: p for p in old.products} if old else {}, {p.sku: p for p in new.products}),
        "coupons": ({c.id: c for c in old.coupons} if old else {}, {c.id: c for c in new.coupons}),
    }
    out: dict[str, dict[str, list[str]]] = {}
    for section, (before, after) in sections.items():
        changed: list[str] = []
        for key in after.keys() & before.keys():
            a, b = before[key], after[key]
            if a == b:
                continue
            detail = key
            if section == "products":
                parts = [
                    f"{label} {getattr(a, attr):g}→{getattr(b, attr):g}"
                    for attr, label in (("price", "价格"), ("stock", "库存"))
                    if getattr(a, attr) != getattr(b, attr)
                    and getattr(b, attr) is not None
                    and getattr(a, attr) is not None
                ]
                detail = " ".join([key, *parts])
            changed.append(detail)
        out[section] = {
            "added": sorted(after.keys() - before.keys())[:listed],
            "removed": sorted(before.keys() - after.keys())[:listed],
            "changed": sorted(changed)[:listed],
        }
    return out


def diff_counts(diff: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, int]]:
    """Per section how many ids a whole (unlisted) diff adds, removes and changes."""
    return {section: {kind: len(ids) for kind, ids in kinds.items()} for section, kinds in diff.items()}


def listed_diff(
    diff: dict[str, dict[str, list[str]]], listed: int = DIFF_LISTED
) -> dict[str, dict[str, list[str]]]:
    """The first ``listed`` ids of each list of a diff (what a page lists; :func:`diff_counts` counts)."""
    return {section: {kind: ids[:listed] for kind, ids in kinds.items()} for section, kinds in diff.items()}


def blocked_terms(library: Library, config: ScriptsSettings | None = None) -> list[str]:
    """Error-level terms (广告法 absolutes, the shop's 禁忌语) in what the library would say, in order."""
    gate = term_gate(config, library.library.taboo)
    texts = [t for s in library.scripts if s.enabled for t in (s.reply, s.on_air)]
    texts += [c.name for c in library.coupons] + [p.name for p in library.products]
    found: dict[str, None] = {}
    for text in texts:
        for term in gate.hits(text):
            found.setdefault(term, None)
    return list(found)


class RegistryError(LivecsError):
    """An activation or rollback that cannot happen (unknown version, nothing to roll back to)."""

    code = ErrorCode.CONFLICT


class ActivationBlocked(RegistryError):
    """The version carries error-level terms: activating it needs an override with a reason."""

    def __init__(self, terms: list[str]) -> None:
        shown = "、".join(terms[:10])
        super().__init__(
            f"话术库含广告法/禁忌用语：{shown}，需管理员填写理由后强制启用",
            f"the library carries forbidden terms: {', '.join(terms[:10])}; "
            "an admin override with a reason is needed",
            code=ErrorCode.INVALID,
        )
        self.terms = terms


@dataclass(slots=True)
class UploadResult:
    """The new version id (``None`` when the upload had errors) and every finding."""

    version_id: int | None
    issues: list[Issue] = field(default_factory=list)
    #: error-level terms found: the version is stored but activating it needs an override
    terms: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version_id: int
    created_at: float
    uploaded_by: str
    sources: str
    label: str
    warnings: int
    active: bool
    name: str = ""


@dataclass(frozen=True, slots=True)
class RollbackPreview:
    """What a rollback would do now: re-activate ``target`` in place of ``active_id``.

    ``activation_seq`` is the shop's last activation (its row id): any activation after the preview makes
    the :attr:`token` stale, so a confirmation given for one change never performs another (or twice)."""

    shop: str
    active_id: int
    target: VersionInfo
    activation_seq: int
    #: every id the target adds, removes and changes against the active version (not truncated)
    changes: dict[str, dict[str, list[str]]]

    @property
    def token(self) -> str:
        key = f"rollback:{self.shop}:{self.active_id}->{self.target.version_id}@{self.activation_seq}"
        return hashlib.sha256(key.encode()).hexdigest()[:ROLLBACK_TOKEN_HEX]

    def counts(self) -> dict[str, dict[str, int]]:
        """Per section how many ids the rollback adds, removes and changes."""
        return diff_counts(self.changes)


class LibraryRegistry:
    """Versions of one shop's library and the active matcher (read :attr:`matcher` once per comment)."""

    def __init__(
        self,
        db_path: str | Path,
        *,
        shop: str = "default",
        config: ScriptsSettings | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.db_path = str(db_path)
        self.shop = shop
        self.config = config or ScriptsSettings()
        self._rng = rng
        self._lock = threading.Lock()
        self._matcher: ScriptMatcher | None = None
        self._active_id: int | None = None
        self._on_air: int | None = None
        with self._connect() as db:
            db.executescript(SCHEMA)
            columns = {r[1] for r in db.execute("PRAGMA table_info(library_activations)")}
            if "reason" not in columns:  # a file written before overrides were recorded
                db.execute("ALTER TABLE library_activations ADD COLUMN reason TEXT NOT NULL DEFAULT ''")
            columns = {r[1] for r in db.execute("PRAGMA table_info(library_versions)")}
            if "name" not in columns:  # a file written before versions had names
                db.execute("ALTER TABLE library_versions ADD COLUMN name TEXT NOT NULL DEFAULT ''")
        active = self._last_activation()
        if active is not None:
            self._swap(active, self._build(active))

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A short-lived connection: committed on success, rolled back on error, always closed."""
        db = sqlite3.connect(self.db_path, timeout=SQLITE_TIMEOUT_S)
        try:
            with db:
                yield db
        finally:
            db.close()

    # --- reading -----------------------------------------------------------------------------------------
    @property
    def matcher(self) -> ScriptMatcher | None:
        """The active matcher (one atomic reference read)."""
        return self._matcher

    @property
    def active_version(self) -> int | None:
        return self._active_id

    def library(self, version_id: int) -> Library:
        with self._connect() as db:
            row = db.execute(
                "SELECT library_json FROM library_versions WHERE id = ? AND shop = ?", (version_id, self.shop)
            ).fetchone()
        if row is None:
            raise RegistryError(
                f"版本 {version_id} 不存在", f"version {version_id} does not exist", code=ErrorCode.NOT_FOUND
            )
        return Library.model_validate_json(row[0])

    def versions(self) -> list[VersionInfo]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, created_at, uploaded_by, sources, label, warnings, name FROM library_versions "
                "WHERE shop = ? ORDER BY id",
                (self.shop,),
            ).fetchall()
        return [
            VersionInfo(
                int(r[0]),
                float(r[1]),
                str(r[2]),
                str(r[3]),
                str(r[4]),
                int(r[5]),
                r[0] == self._active_id,
                str(r[6]),
            )
            for r in rows
        ]

    # --- writing -----------------------------------------------------------------------------------------
    def upload(
        self,
        files: Iterable[tuple[str, bytes]],
        *,
        uploaded_by: str = "",
        now: float | None = None,
        name: str = "",
    ) -> UploadResult:
        """Validate + lint uploaded files; store a new version when error-free (not activated). ``name``
        (default: the library's name and version) is what the merchant page lists it by."""
        version_name = name.strip()
        file_list = list(files)
        result = check_bytes(file_list, self.config)
        issues = list(result.issues)
        blocking = [i for i in issues if i.code not in TERM_CODES]
        if result.library is None or has_errors(blocking):
            return UploadResult(None, issues)
        digest = hashlib.sha256()
        for file_name, content in file_list:
            digest.update(file_name.encode())
            digest.update(content)
        warnings = sum(1 for i in issues if i.severity == "warning")
        with self._lock, self._connect() as db:
            cur = db.execute(
                "INSERT INTO library_versions (shop, created_at, uploaded_by, sources, sha256, label, "
                "warnings, library_json, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.shop,
                    time.time() if now is None else now,
                    uploaded_by,
                    ", ".join(file_name for file_name, _ in file_list),
                    digest.hexdigest(),
                    result.library.library.version,
                    warnings,
                    result.library.model_dump_json(),
                    (
                        version_name or f"{result.library.library.name} {result.library.library.version}"
                    ).strip()[:VERSION_NAME_MAX],
                ),
            )
            version_id = int(cur.lastrowid or 0)
        return UploadResult(version_id, issues, blocked_terms(result.library, self.config))

    def diff(self, version_id: int, *, listed: int | None = DIFF_LISTED) -> dict[str, dict[str, list[str]]]:
        """:func:`diff_libraries` of a version against the active one (``listed``: ids kept per list)."""
        active = self._active_id
        old = self.library(active) if active is not None else None
        return diff_libraries(old, self.library(version_id), listed=listed)

    def upload_paths(self, paths: Iterable[str | Path], *, uploaded_by: str = "") -> UploadResult:
        return self.upload([(Path(p).name, Path(p).read_bytes()) for p in paths], uploaded_by=uploaded_by)

    def activate(
        self, version_id: int, *, by: str = "", now: float | None = None, override_reason: str = ""
    ) -> ScriptMatcher:
        """Make ``version_id`` live: build its matcher, record the activation, swap atomically.

        A version carrying error-level terms (:func:`blocked_terms`) raises :class:`ActivationBlocked` unless
        ``override_reason`` is given; the reason is recorded with the activation (kind ``override``)."""
        reason = override_reason.strip()
        terms = blocked_terms(self.library(version_id), self.config)
        if terms and not reason:
            raise ActivationBlocked(terms)
        kind = "override" if terms else "activate"
        return self._activate(version_id, by, kind, now, reason if terms else "")

    def activations(self) -> list[dict[str, object]]:
        """Every activation of the shop, oldest first (who, when, kind, the override's reason)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT version_id, activated_at, activated_by, kind, reason FROM library_activations "
                "WHERE shop = ? ORDER BY id",
                (self.shop,),
            ).fetchall()
        return [
            {"version": int(r[0]), "at": float(r[1]), "by": str(r[2]), "kind": str(r[3]), "reason": str(r[4])}
            for r in rows
        ]

    def rollback_preview(self) -> RollbackPreview:
        """What :meth:`rollback` would do now: the version live before the current one (the shop's latest
        activation in the file, which another process may have made) and what it changes."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, version_id FROM library_activations WHERE shop = ? ORDER BY id DESC", (self.shop,)
            ).fetchall()
        if not rows:
            raise RegistryError("没有可回滚的上一个版本", "no previous version to roll back to")
        seq, current = int(rows[0][0]), int(rows[0][1])
        previous = next((int(r[1]) for r in rows if r[1] != current), None)
        if previous is None:
            raise RegistryError("没有可回滚的上一个版本", "no previous version to roll back to")
        info = next(v for v in self.versions() if v.version_id == previous)
        changes = diff_libraries(self.library(current), self.library(previous), listed=None)
        return RollbackPreview(self.shop, current, info, seq, changes)

    def rollback(
        self,
        *,
        by: str = "",
        now: float | None = None,
        token: str = "",
        version: int | None = None,
        confirm: bool = False,
    ) -> int:
        """Re-activate the version that was live before the current one; returns its id.

        Confirmed: ``token`` from :meth:`rollback_preview`, or ``version`` (the target's id) with
        ``confirm=True``. Without either it raises :class:`~livecs.errors.ConfirmationRequired`; a token made
        stale by an activation since its preview, or a version that is not the target, raises
        :class:`~livecs.errors.ConfirmationStale` — checked again in the same transaction that records the
        rollback, so two confirmations of one preview roll back once."""
        preview = self.rollback_preview()
        target = preview.target.version_id
        if token:
            if token != preview.token:
                raise ConfirmationStale(
                    "确认已失效：查看回滚内容之后话术库版本又有变动，请重新查看后再确认",
                    "stale confirmation: the library versions changed since the preview; preview again",
                    rollback_to=str(target),
                )
        elif version is not None and confirm:
            if version != target:
                raise ConfirmationStale(
                    f"现在回滚会切换到版本 {target}，不是版本 {version}，请重新查看后再确认",
                    f"a rollback now goes to version {target}, not {version}; preview again",
                    rollback_to=str(target),
                )
        else:
            raise ConfirmationRequired(
                f"回滚需要确认：先查看将回滚到的版本（版本 {target}），再提交确认令牌，"
                f'或提交 {{"version": "{target}", "confirm": true}}',
                f"rollback needs a confirmation: preview it (GET /api/merchant/rollback: version {target}), "
                f'then send its confirm_token, or {{"version": "{target}", "confirm": true}}',
                rollback_to=str(target),
            )
        self._activate(target, by, "rollback", now, expect_seq=preview.activation_seq)
        return target

    def refresh(self) -> bool:
        """Pick up an activation made by another process on the same file; ``True`` when it swapped.

        Cheap (one indexed query): a worker can call it every few seconds."""
        latest = self._last_activation()
        if latest is None or latest == self._active_id:
            return False
        matcher = self._build(latest)
        with self._lock:
            self._swap(latest, matcher)
        return True

    def set_on_air(self, link: int | None) -> None:
        """Set the product on air for the active library and every library activated later."""
        self._on_air = link
        m = self._matcher
        if m is not None:
            m.library.set_on_air(link)

    def _activate(
        self,
        version_id: int,
        by: str,
        kind: str,
        now: float | None,
        reason: str = "",
        *,
        expect_seq: int | None = None,
    ) -> ScriptMatcher:
        """Record the activation and swap; with ``expect_seq`` only if the shop's last activation is still
        that one (checked in the writing transaction: another process's activation counts too)."""
        matcher = self._build(version_id)  # outside the lock: matching goes on meanwhile
        with self._lock:
            with self._connect() as db:
                if expect_seq is not None:
                    db.execute("BEGIN IMMEDIATE")
                    row = db.execute(
                        "SELECT MAX(id) FROM library_activations WHERE shop = ?", (self.shop,)
                    ).fetchone()
                    if row is None or row[0] != expect_seq:
                        raise ConfirmationStale(
                            "确认已失效：话术库版本刚刚有变动，请重新查看后再确认",
                            "stale confirmation: another activation came first; preview again",
                        )
                db.execute(
                    "INSERT INTO library_activations (shop, version_id, activated_at, activated_by, kind, "
                    "reason) VALUES (?, ?, ?, ?, ?, ?)",
                    (self.shop, version_id, time.time() if now is None else now, by, kind, reason),
                )
            self._swap(version_id, matcher)
        return matcher

    def _build(self, version_id: int) -> ScriptMatcher:
        library = self.library(version_id)
        library.set_on_air(self._on_air)
        return ScriptMatcher(library, self.config, rng=self._rng)

    def _swap(self, version_id: int, matcher: ScriptMatcher) -> None:
        old = self._matcher
        if self._on_air is not None and old is not None:
            link = self._on_air
            was, now = old.library.product_by_link(link), matcher.library.product_by_link(link)
            if was is None or now is None or (was.sku, was.name) != (now.sku, now.name):
                # the link number now names another product (or none): nobody chose that one for the show
                log.info("library switch: link %s no longer names %s: nothing on air", link, was)
                self._on_air = None
        matcher.library.set_on_air(self._on_air)
        self._matcher = matcher
        self._active_id = version_id

    def _last_activation(self) -> int | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT version_id FROM library_activations WHERE shop = ? ORDER BY id DESC LIMIT 1",
                (self.shop,),
            ).fetchone()
        return int(row[0]) if row else None
