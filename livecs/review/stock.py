"""Coupons issued against the merchant library's stock: which rules ran out, which were barely used.

The record holds only what operators did (``issue_coupon`` actions naming a ``coupon_rule_id``); each rule's
total ``stock`` per room, per-user limit, type and name live in the merchant library
(:mod:`livecs.scripts.versions`, a separate SQLite file). The review takes the **version active when the
broadcast ended** (the shop's last activation at or before then, from the registry's timestamped
activations); when the registry has none by then (it was started after the broadcast) it falls back to the
version active now, and the report says which of the two it used.

The library database is opened read-only (``mode=ro``; :class:`~livecs.scripts.versions.LibraryRegistry`
would create its tables on open). A missing file, a database without versions, no active version or an
unreadable library never fails the review: the report says 库存未知 and why.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from livecs.review.settings import NO_RULE
from livecs.scripts.library import COUPON_TYPE_CHINESE, CouponRule, Library

PERCENT = 100.0
STOCK_UNKNOWN = "库存未知"
#: status of a rule in the report and the ``coupons`` export
STATUS_SOLD_OUT = "已发完"
STATUS_OVER = "超发"
STATUS_LOW = "几乎未用"
STATUS_OK = "正常"
STATUS_UNKNOWN = STOCK_UNKNOWN
BUSY_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class LibraryCoupons:
    """The coupon rules of the active library version, or why there are none (``reason``)."""

    path: str
    version_id: int | None = None
    library_name: str = ""
    library_version: str = ""
    rules: dict[str, CouponRule] = field(default_factory=dict)
    reason: str = ""  # set when the stock is unknown
    during_broadcast: bool = False  # the version active when the broadcast ended (else: the one active now)

    @property
    def known(self) -> bool:
        return self.version_id is not None

    def describe(self) -> str:
        """Where the stock figures come from, for the report and the summary sheet."""
        if not self.known:
            return f"{STOCK_UNKNOWN}（{self.reason}）"
        label = " ".join(x for x in (self.library_name, self.library_version) if x)
        which = "播出结束时生效的版本" if self.during_broadcast else "复盘时生效的版本"
        return f"话术库版本 {self.version_id}（{label + '，' if label else ''}{which}）"


def unknown(reason: str, path: str | Path | None = None) -> LibraryCoupons:
    return LibraryCoupons(path="" if path is None else str(path), reason=reason)


def load_library_coupons(
    path: str | Path | None, shop: str = "default", at: float | None = None
) -> LibraryCoupons:
    """The coupon rules of ``shop``'s library version in the registry at ``path`` (read-only): the version
    that was active at ``at`` (the broadcast's end: its last activation at or before then), else — ``at`` not
    given, or no activation by then (a registry started after the broadcast) — the version active now."""
    if path is None:
        return unknown("未提供话术库")
    p = Path(path)
    if not p.is_file():
        return unknown(f"话术库文件不存在：{p}", p)
    try:
        conn = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        return unknown(f"无法打开话术库：{exc}", p)
    try:
        select = (
            "SELECT v.id, v.library_json FROM library_activations a JOIN library_versions v "
            "ON v.id = a.version_id AND v.shop = a.shop WHERE a.shop = ?"
        )
        row = None
        if at is not None:
            row = conn.execute(
                f"{select} AND a.activated_at <= ? ORDER BY a.id DESC LIMIT 1", (shop, at)
            ).fetchone()
        during = row is not None
        if row is None:
            row = conn.execute(f"{select} ORDER BY a.id DESC LIMIT 1", (shop,)).fetchone()
    except sqlite3.Error as exc:  # not a registry (no such table), corrupt file…
        return unknown(f"无法读取话术库：{exc}", p)
    finally:
        conn.close()
    if row is None:
        return unknown(f"店铺 {shop} 没有生效的话术库版本", p)
    try:
        library = Library.model_validate_json(row[1])
    except ValidationError as exc:
        return unknown(f"话术库版本 {row[0]} 无法解析：{exc.error_count()} 处错误", p)
    return LibraryCoupons(
        path=str(p),
        version_id=int(row[0]),
        library_name=library.library.name,
        library_version=library.library.version,
        rules={c.id: c for c in library.coupons},
        during_broadcast=during,
    )


@dataclass(frozen=True)
class CouponStockRow:
    """One coupon rule: issued in this session against its stock."""

    rule_id: str
    name: str
    type: str  # Chinese type name ("" when the rule is not in the library)
    enabled: bool | None
    issued: int
    stock: int | None  # None = unknown
    per_user_limit: int | None
    status: str

    @property
    def share(self) -> float | None:
        """Issued / stock (None when the stock is unknown or zero)."""
        return self.issued / self.stock if self.stock else None

    @property
    def remaining(self) -> int | None:
        return None if self.stock is None else max(0, self.stock - self.issued)

    def usage(self) -> str:
        """``12 / 50 (24%)``; ``库存未知`` without a stock figure."""
        if self.stock is None:
            return STOCK_UNKNOWN
        return f"{self.issued:,} / {self.stock:,}" + (f" ({fmt_pct(self.share)})" if self.stock else "")


@dataclass(frozen=True)
class CouponStock:
    """Every rule's row and the totals of the session (``已发券 N 张，占库存 X%``)."""

    library: LibraryCoupons
    rows: list[CouponStockRow]
    issued: int  # every issue_coupon action of the session
    issued_known: int  # of those, the ones whose rule has a known stock
    stock: int  # sum of the stock of the rules counted (see :func:`coupon_stock`)

    @property
    def known(self) -> bool:
        return self.library.known

    @property
    def share(self) -> float | None:
        return self.issued_known / self.stock if self.known and self.stock else None

    @property
    def unknown_issued(self) -> int:
        """Coupons of rules the library does not have (their stock is unknown)."""
        return self.issued - self.issued_known

    def total_text(self) -> str:
        """The one-line total: ``已发券 15 张，占库存 1%（15 / 1,500）``."""
        if not self.known:
            return f"已发券 {self.issued:,} 张，{STOCK_UNKNOWN}（{self.library.reason}）"
        if not self.stock:
            text = f"已发券 {self.issued:,} 张，话术库中的券库存为 0"
        else:
            text = (
                f"已发券 {self.issued:,} 张，占库存 {fmt_pct(self.share)}"
                f"（{self.issued_known:,} / {self.stock:,}）"
            )
        if self.unknown_issued:
            text += f"；其中 {self.unknown_issued:,} 张的券规则不在话术库中，库存未知"
        return text

    def summary_value(self) -> str:
        """The summary card / sheet value: ``1%`` or ``库存未知``."""
        share = self.share
        return STOCK_UNKNOWN if share is None else fmt_pct(share)


def fmt_pct(share: float | None) -> str:
    if share is None:
        return "–"
    pct = PERCENT * share
    return f"{pct:.0f}%" if pct >= 1 or pct == 0 else f"{pct:.1f}%"


def _status(issued: int, stock: int | None, enabled: bool | None, low_share: float) -> str:
    if stock is None:
        return STATUS_UNKNOWN
    if issued > stock:
        return STATUS_OVER
    if issued and issued >= stock:
        return STATUS_SOLD_OUT
    if enabled and stock and issued / stock < low_share:
        return STATUS_LOW
    return STATUS_OK


def coupon_stock(issued_by_rule: dict[str, int], library: LibraryCoupons, low_share: float) -> CouponStock:
    """Rows: every rule issued in the session (most issued first), then the library's other enabled rules
    (0 issued). Totals: all coupons issued; the stock is the sum over the library's enabled rules plus any
    disabled rule that was issued anyway (the coupons the room could hand out)."""
    rows: list[CouponStockRow] = []
    for rule_id, n in sorted(issued_by_rule.items(), key=lambda kv: (-kv[1], kv[0])):
        rule = library.rules.get(rule_id) if rule_id != NO_RULE else None
        if rule is None:
            rows.append(CouponStockRow(rule_id, "", "", None, n, None, None, STATUS_UNKNOWN))
        else:
            rows.append(_row(rule, n, low_share))
    for rule in library.rules.values():
        if rule.enabled and rule.id not in issued_by_rule:
            rows.append(_row(rule, 0, low_share))
    counted = [r for r in rows if r.stock is not None]
    return CouponStock(
        library=library,
        rows=rows,
        issued=sum(issued_by_rule.values()),
        issued_known=sum(r.issued for r in counted),
        stock=sum(r.stock or 0 for r in counted),
    )


def _row(rule: CouponRule, issued: int, low_share: float) -> CouponStockRow:
    return CouponStockRow(
        rule_id=rule.id,
        name=rule.name,
        type=COUPON_TYPE_CHINESE.get(rule.type, rule.type),
        enabled=rule.enabled,
        issued=issued,
        stock=rule.stock,
        per_user_limit=rule.per_user_limit,
        status=_status(issued, rule.stock, rule.enabled, low_share),
    )
