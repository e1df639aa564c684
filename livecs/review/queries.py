"""The review's reads: aggregates computed in SQL over one session, in bounded memory.

Everything per comment stays in SQLite: counts per minute, intent and sentiment mix, unique viewers, top
clusters, response times. Response times need "first action on this comment" — an action may target the
comment, one of its suggestions, or its cluster (then it answers the cluster's members that came before it).
:class:`ReviewReader` builds small TEMP tables for that (``t_act`` from the actions, ``t_resp`` for every
comment that has an SLA), so nothing is written to the live database and nothing is held in Python. TEMP
tables live in SQLite's temp store (a file, spilled from a bounded page cache).
"""

from __future__ import annotations

import bisect
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from livecs.errors import LivecsError
from livecs.review.settings import NO_RULE, SECONDS_PER_MINUTE, ReviewSettings
from livecs.review.stock import CouponStock
from livecs.vocabulary import COUPON_KINDS, MODERATION_KINDS, NON_RESPONSE_KINDS, PRIORITY_ORDER
from livecs.vocabulary import QUESTION_INTENT_ORDER as QUESTION_INTENTS

if TYPE_CHECKING:
    from livecs.review.compare import Comparison
    from livecs.review.figures import Business, OperatorFigures
    from livecs.scripts.settings import ScriptsSettings

#: comment ``extras`` keys (first present wins) naming the product on air
PRODUCT_KEYS = ("on_air", "product_on_air", "product", "link", "sku")
#: event ``data`` keys naming the product of a paid order
ORDER_PRODUCT_KEYS = ("link", "sku", "product")
NO_ACTION_TS = 1e18  # sentinel larger than any epoch second (SQLite's min() is NULL-poisoned)
CACHE_KIB = 65_536  # page cache bound of the review connection (KiB)
BUSY_TIMEOUT_S = 10.0
HANDLING_SHOWN = 5  # actions listed per item in the report's tables
REQUIRED_TABLES = ("sessions", "comments", "events", "triage", "suggestions", "actions")
#: the operator's action an ``actions`` row belongs to: each delivery attempt of a reply or a mute/ban is
#: recorded as ``<action_id>.<attempt>`` beside (or, for a reply, instead of) the action itself, so one
#: action is counted once by this expression
BASE_ACTION_ID = (
    "CASE WHEN instr(action_id, '.') > 0 THEN substr(action_id, 1, instr(action_id, '.') - 1) "
    "ELSE action_id END"
)
#: event kind of the merchant setting a product on air (recorded by the console, never taken from a platform)
ON_AIR_KIND = "on_air"


class ReviewError(LivecsError):
    """The review cannot run (no database, no such session); the message says why."""


@dataclass(frozen=True)
class SessionMeta:
    session_id: str
    room: str
    source: str
    started_at: float
    ended_at: float | None


@dataclass
class Summary:
    comments: int = 0
    triaged: int = 0
    unique_viewers: int = 0
    first_ts: float | None = None
    last_ts: float | None = None
    peak_per_minute: int = 0
    peak_minute: int | None = None  # epoch minute
    peak_per_second: int = 0
    peak_second: int | None = None
    buy_signal_comments: int = 0
    orders_paid: int = 0
    coupons_issued: int = 0
    complaints: int = 0
    spam: int = 0
    negative: int = 0
    questions: int = 0
    actions: int = 0
    suggestions: int = 0
    events: int = 0


@dataclass
class ResponseStats:
    priority: str
    items: int = 0
    answered: int = 0
    breached: int = 0  # answered late or never (once the deadline passed)
    p50_s: float | None = None
    p90_s: float | None = None
    buckets: list[int] = field(default_factory=list)  # len(response_buckets_s) + 1, answered only


@dataclass(frozen=True)
class ClusterRow:
    key: str
    intent: str
    label: str
    count: int
    script_id: str
    answered: int
    items: int


@dataclass(frozen=True)
class ItemRow:
    comment_id: str
    ts: float
    user_id: str
    nickname: str
    text: str
    intent: str
    priority: str
    deadline: float | None
    first_ts: float | None
    handling: str


@dataclass(frozen=True)
class OnAirPeriod:
    start: float
    end: float
    label: str  # "3号链接"


def product_at(periods: Sequence[OnAirPeriod], ts: float) -> str | None:
    """The product on air at ``ts`` (``periods`` sorted by start, not overlapping)."""
    i = bisect.bisect_right([p.start for p in periods], ts) - 1
    if i >= 0 and periods[i].start <= ts < periods[i].end:
        return periods[i].label
    return None


@dataclass(frozen=True)
class TicketRow:
    """One ticket (工单) escalated in the session, as the review shows it."""

    ticket_id: str
    status: str
    priority: str
    intent: str
    owner: str
    created_at: float
    created_by: str
    user_id: str
    nickname: str
    text: str  # the first comment
    note: str
    due_first_response: float
    due_resolution: float
    first_response_at: float | None
    resolved_at: float | None
    closed_at: float | None
    outcome: str
    resolution: str
    overdue: str  # at review time: first_response | resolution | ""

    @property
    def first_response_late(self) -> bool:
        return self.first_response_at is not None and self.first_response_at > self.due_first_response


@dataclass(frozen=True)
class ActionRow:
    ts: float
    operator: str
    kind: str
    target_id: str
    user_id: str
    coupon_rule_id: str
    text: str


@dataclass(frozen=True)
class QualityRow:
    """One line of the 质检 table: an edited suggestion (before → after), a forced send, or a reply that
    went out carrying an error-level term (广告法, 禁忌语)."""

    ts: float
    operator: str
    kind: str  # edit | forced | term
    before: str
    after: str
    terms: str


@dataclass
class ReviewData:
    """Everything the HTML report shows (already aggregated; small)."""

    meta: SessionMeta
    summary: Summary
    per_minute: dict[int, int]
    intent_minute: dict[int, dict[str, int]]
    negative_minute: dict[int, tuple[int, int]]  # minute -> (negative, triaged)
    product_minute: dict[int, str]  # from the merchant's on-air changes
    on_air: list[OnAirPeriod]
    buy_minute: dict[int, int]
    intent_counts: dict[str, int]
    theme_counts: dict[str, int]  # themes among question comments
    complaint_theme_minute: dict[str, dict[int, int]]
    responses: list[ResponseStats]
    clusters: list[ClusterRow]
    breached_items: list[ItemRow]
    breached_total: int
    unanswered_total: int
    complaints: list[ItemRow]
    complaints_answered: int
    coupons: list[ActionRow]
    coupon_totals: dict[str, int]
    moderation: list[ActionRow]
    moderation_totals: dict[str, int]
    buy_by_product: dict[str, int]
    tickets: list[TicketRow] = field(default_factory=list)
    #: operators' marks (last per card), per kind (resolve, satisfaction): good, marked, rate, by_intent,
    #: by_operator
    marks: dict[str, Any] = field(default_factory=dict)
    survey: tuple[int, int] = (0, 0)  # imported survey results: (satisfied, answered)
    business: Business | None = None  # orders, GMV, viewers, rates (set by build_review)
    operators: list[OperatorFigures] = field(default_factory=list)  # 客服表现 (set by build_review)
    comparison: Comparison | None = None  # against another broadcast (set by build_review)
    coupon_stock: CouponStock | None = None  # coupons against the library's stock (set by build_review)
    quality: list[QualityRow] = field(default_factory=list)
    quality_totals: dict[str, int] = field(default_factory=dict)  # edit / forced / term -> count


def open_db(path: str | Path, settings: ReviewSettings | None = None) -> sqlite3.Connection:
    """A connection for reading one record (never creates the file or its schema)."""
    p = Path(path)
    if not p.exists():
        raise ReviewError(f"{p}: no such database")
    conn = sqlite3.connect(str(p), timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA temp_store=FILE")
    conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    missing = [t for t in REQUIRED_TABLES if t not in names]
    if missing:
        conn.close()
        raise ReviewError(f"{p}: not a livecs record (missing tables: {', '.join(missing)})")
    return conn


def resolve_session(conn: sqlite3.Connection, session: str) -> SessionMeta:
    """``latest`` (most recently started) or an exact session id."""
    cols = "session_id, room, source, started_at, ended_at"
    if session == "latest":
        row = conn.execute(f"SELECT {cols} FROM sessions ORDER BY started_at DESC LIMIT 1").fetchone()
        if row is None:
            raise ReviewError("the record holds no session")
    else:
        row = conn.execute(f"SELECT {cols} FROM sessions WHERE session_id=?", (session,)).fetchone()
        if row is None:
            known = [
                r[0] for r in conn.execute("SELECT session_id FROM sessions ORDER BY started_at DESC LIMIT 5")
            ]
            raise ReviewError(f"no session {session!r} (recent: {', '.join(known) or 'none'})")
    return SessionMeta(row[0], row[1], row[2], float(row[3]), None if row[4] is None else float(row[4]))


def product_label(value: Any) -> str:
    """A link number becomes ``3号链接``; anything else is shown as is."""
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return f"{value}号链接"
    return str(value)


def _placeholders(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def _product_expr(column: str, keys: Sequence[str]) -> str:
    parts = ", ".join(f"json_extract({column}, '$.{k}')" for k in keys)
    return f"COALESCE({parts})"


class ReviewReader:
    """Aggregates of one session. Call :meth:`prepare` once (builds the TEMP tables), then the queries."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        meta: SessionMeta,
        settings: ReviewSettings,
        scripts: ScriptsSettings | None = None,
    ) -> None:
        self.conn = conn
        self.meta = meta
        self.settings = settings
        self.scripts = scripts  # the configured ad-law terms file (None: the shipped one) for the 质检 table
        self.sid = meta.session_id
        self._prepared = False

    # -- temp tables ------------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Build ``t_act`` (actions that count as a response), ``t_mod`` (moderation of a user: answers that
        user's comments in the moderation queue up to then) and ``t_resp`` (comments with an SLA)."""
        if self._prepared:
            return
        c, sid = self.conn, self.sid
        c.execute("DROP TABLE IF EXISTS temp.t_act")
        c.execute("DROP TABLE IF EXISTS temp.t_sugfirst")
        c.execute("DROP TABLE IF EXISTS temp.t_resp")
        c.execute("DROP TABLE IF EXISTS temp.t_credit")  # built from these by figures.credit_first_responses
        c.execute(
            "CREATE TEMP TABLE t_act AS SELECT target_id, ts, kind, operator FROM actions "
            f"WHERE session_id=? "
            f"AND kind NOT IN ({_placeholders(NON_RESPONSE_KINDS)})",
            (sid, *NON_RESPONSE_KINDS),
        )
        c.execute("CREATE INDEX temp.t_act_target ON t_act (target_id, ts)")
        c.execute("DROP TABLE IF EXISTS temp.t_mod")
        c.execute(
            "CREATE TEMP TABLE t_mod AS SELECT CASE WHEN user_id<>''"
            " THEN user_id ELSE target_id END user_id, ts, kind, operator "
            f"FROM actions WHERE session_id=? AND kind IN ({_placeholders(MODERATION_KINDS)})",
            (sid, *MODERATION_KINDS),
        )
        c.execute("CREATE INDEX temp.t_mod_user ON t_mod (user_id, ts)")
        c.execute("DROP TABLE IF EXISTS temp.t_sugmap")
        c.execute(  # suggestions that were acted on, by comment (few: operators act on few)
            "CREATE TEMP TABLE t_sugmap AS SELECT DISTINCT s.comment_id, s.suggestion_id FROM t_act a "
            "JOIN suggestions s ON s.session_id=? AND s.suggestion_id=a.target_id",
            (sid,),
        )
        c.execute("CREATE INDEX temp.t_sugmap_comment ON t_sugmap (comment_id)")
        c.execute("CREATE TEMP TABLE t_sugfirst (comment_id TEXT PRIMARY KEY, ts REAL) WITHOUT ROWID")
        c.execute(
            "INSERT INTO t_sugfirst SELECT m.comment_id, MIN(a.ts) FROM t_sugmap m "
            "JOIN t_act a ON a.target_id=m.suggestion_id GROUP BY m.comment_id"
        )
        c.execute(
            "CREATE TEMP TABLE t_resp (comment_id TEXT PRIMARY KEY, priority TEXT, intent TEXT, ckey TEXT, "
            "ts REAL, deadline REAL, first_ts REAL) WITHOUT ROWID"
        )
        sla = self.settings.sla_s
        sla_case = " ".join(f"WHEN '{p}' THEN {float(s)!r}" for p, s in sla.items() if p in PRIORITY_ORDER)
        has_actions = c.execute(
            "SELECT EXISTS (SELECT 1 FROM t_act) OR EXISTS (SELECT 1 FROM t_mod)"
        ).fetchone()[0]
        if has_actions:
            first = (
                f"NULLIF(MIN("
                f"COALESCE((SELECT MIN(a.ts) FROM t_act a WHERE a.target_id=c.comment_id), {NO_ACTION_TS}),"
                f"COALESCE((SELECT f.ts FROM t_sugfirst f WHERE f.comment_id=c.comment_id), {NO_ACTION_TS}),"
                "COALESCE((SELECT MIN(a.ts) FROM t_act a WHERE"
                " t.cluster_id<>'' AND a.target_id=t.cluster_id "
                f"AND a.ts>=c.ts), {NO_ACTION_TS}),"
                f"COALESCE((SELECT MIN(m.ts) FROM t_mod m WHERE t.priority='mod' AND m.user_id=c.user_id "
                f"AND m.ts>=c.ts), {NO_ACTION_TS})), {NO_ACTION_TS})"
            )
        else:
            first = "NULL"
        c.execute(
            f"INSERT INTO t_resp SELECT t.comment_id, t.priority, t.intent, "
            f"COALESCE(NULLIF(t.cluster_id,''), t.normalized), c.ts, "
            # a deadline never falls before its comment: a recorded one (a cluster's deadline is set by its
            # oldest member) that does gives way to the priority's own SLA counted from this comment
            f"CASE WHEN t.sla_deadline >= c.ts THEN t.sla_deadline "
            f"ELSE c.ts + COALESCE(CASE t.priority {sla_case} END, 0) END, {first} "
            f"FROM triage t JOIN comments c ON c.session_id=t.session_id AND c.comment_id=t.comment_id "
            f"WHERE t.session_id=? AND (t.sla_deadline IS NOT NULL OR t.priority IN "
            f"({_placeholders(list(sla))}))",
            (sid, *sla),
        )
        c.execute("CREATE INDEX temp.t_resp_ckey ON t_resp (ckey)")
        c.commit()
        self._prepared = True

    @property
    def end_ts(self) -> float:
        """When the review considers the session over (a deadline after it is not breached yet)."""
        last = self.conn.execute("SELECT MAX(ts) FROM comments WHERE session_id=?", (self.sid,)).fetchone()[0]
        ends = [x for x in (self.meta.ended_at, last) if x is not None]
        return max(ends) if ends else self.meta.started_at

    # -- aggregates -------------------------------------------------------------------------------------
    def summary(self) -> Summary:
        c, sid = self.conn, self.sid
        s = Summary()
        row = c.execute(
            "SELECT COUNT(*), MIN(ts), MAX(ts), COUNT(DISTINCT user_id) FROM comments WHERE session_id=?",
            (sid,),
        ).fetchone()
        s.comments, s.first_ts, s.last_ts, s.unique_viewers = int(row[0]), row[1], row[2], int(row[3])
        row = c.execute(
            "SELECT CAST(ts AS INTEGER) sec, COUNT(*) n FROM comments WHERE session_id=? GROUP BY sec "
            "ORDER BY n DESC, sec LIMIT 1",
            (sid,),
        ).fetchone()
        if row:
            s.peak_second, s.peak_per_second = int(row[0]), int(row[1])
        qs = _placeholders(QUESTION_INTENTS)
        row = c.execute(
            "SELECT COUNT(*), SUM(intent='buy_signal'),"
            " SUM(intent='complaint'), SUM(spam=1 OR intent='spam'), "
            f"SUM(sentiment='neg'), SUM(intent IN ({qs})) FROM triage WHERE session_id=?",
            (*QUESTION_INTENTS, sid),
        ).fetchone()
        s.triaged = int(row[0])
        s.buy_signal_comments, s.complaints, s.spam, s.negative, s.questions = (int(x or 0) for x in row[1:])
        s.orders_paid = int(
            c.execute(
                "SELECT COUNT(*) FROM events WHERE session_id=? AND kind='order_paid'", (sid,)
            ).fetchone()[0]
        )
        s.events = int(c.execute("SELECT COUNT(*) FROM events WHERE session_id=?", (sid,)).fetchone()[0])
        s.actions = int(
            c.execute(
                f"SELECT COUNT(DISTINCT {BASE_ACTION_ID}) FROM actions WHERE session_id=?", (sid,)
            ).fetchone()[0]
        )
        s.suggestions = int(
            c.execute("SELECT COUNT(*) FROM suggestions WHERE session_id=?", (sid,)).fetchone()[0]
        )
        s.coupons_issued = int(  # issued by hand or by approving the suggested coupon
            c.execute(
                f"SELECT COUNT(DISTINCT {BASE_ACTION_ID}) FROM actions WHERE session_id=? "
                f"AND kind IN ({_placeholders(COUPON_KINDS)})",
                (sid, *COUPON_KINDS),
            ).fetchone()[0]
        )
        return s

    def per_minute(self) -> dict[int, int]:
        rows = self.conn.execute(
            f"SELECT CAST(ts / {SECONDS_PER_MINUTE} AS INTEGER) m, COUNT(*) FROM comments WHERE session_id=? "
            f"GROUP BY m ORDER BY m",
            (self.sid,),
        )
        return {int(m): int(n) for m, n in rows}

    def mix_per_minute(self) -> tuple[dict[int, dict[str, int]], dict[int, tuple[int, int]]]:
        """(intent counts per minute, (negative, triaged) per minute) in one pass over the join."""
        intents: dict[int, dict[str, int]] = {}
        neg: dict[int, list[int]] = {}
        rows = self.conn.execute(
            f"SELECT CAST(c.ts / {SECONDS_PER_MINUTE} AS INTEGER) m, t.intent, t.sentiment='neg', COUNT(*) "
            f"FROM comments c JOIN triage t ON t.session_id=c.session_id AND t.comment_id=c.comment_id "
            f"WHERE c.session_id=? GROUP BY m, t.intent, t.sentiment='neg'",
            (self.sid,),
        )
        for m, intent, is_neg, n in rows:
            m, n = int(m), int(n)
            d = intents.setdefault(m, {})
            d[intent] = d.get(intent, 0) + n
            pair = neg.setdefault(m, [0, 0])
            pair[1] += n
            if is_neg:
                pair[0] += n
        return intents, {m: (p[0], p[1]) for m, p in neg.items()}

    def on_air_periods(self) -> list[OnAirPeriod]:
        """What the merchant set on air and when: each ``on_air`` event (``data.link``; ``null`` = nothing
        on air) starts a period that lasts until the next one or the end of the session."""
        rows = self.conn.execute(
            "SELECT ts, json_extract(data, '$.link') FROM events WHERE session_id=? AND kind=? ORDER BY ts",
            (self.sid, ON_AIR_KIND),
        ).fetchall()
        end = self.end_ts
        out: list[OnAirPeriod] = []
        for i, (ts, link) in enumerate(rows):
            stop = float(rows[i + 1][0]) if i + 1 < len(rows) else max(end, float(ts))
            if link is not None and stop > float(ts):
                out.append(OnAirPeriod(float(ts), stop, product_label(link)))
        return out

    def product_per_minute(self, periods: Sequence[OnAirPeriod] | None = None) -> dict[int, str]:
        """The product on air for the larger part of each minute, from the merchant's on-air changes (empty
        when the merchant never set one)."""
        periods = self.on_air_periods() if periods is None else periods
        share: dict[int, dict[str, float]] = {}
        for p in periods:
            m = int(p.start // SECONDS_PER_MINUTE)
            while m * SECONDS_PER_MINUTE < p.end:
                lo = max(p.start, m * SECONDS_PER_MINUTE)
                hi = min(p.end, (m + 1) * SECONDS_PER_MINUTE)
                d = share.setdefault(m, {})
                d[p.label] = d.get(p.label, 0.0) + (hi - lo)
                m += 1
        return {m: max(d.items(), key=lambda kv: kv[1])[0] for m, d in share.items()}

    def buys_per_minute(self) -> dict[int, int]:
        """Buy signals per minute: buy-signal comments plus paid orders."""
        out: dict[int, int] = {}
        q1 = (
            f"SELECT CAST(c.ts / {SECONDS_PER_MINUTE} AS INTEGER) m, COUNT(*) FROM triage t JOIN comments c "
            f"ON c.session_id=t.session_id AND c.comment_id=t.comment_id WHERE t.session_id=? "
            f"AND t.intent='buy_signal' GROUP BY m"
        )
        q2 = (
            f"SELECT CAST(ts / {SECONDS_PER_MINUTE} AS INTEGER) m, COUNT(*) FROM events WHERE session_id=? "
            f"AND kind='order_paid' GROUP BY m"
        )
        for q in (q1, q2):
            for m, n in self.conn.execute(q, (self.sid,)):
                out[int(m)] = out.get(int(m), 0) + int(n)
        return out

    def orders_by_product(self) -> dict[str, int]:
        expr = _product_expr("data", ORDER_PRODUCT_KEYS)
        rows = self.conn.execute(
            f"SELECT {expr} p, COUNT(*) FROM events WHERE"
            " session_id=? AND kind='order_paid' AND p IS NOT NULL "
            f"GROUP BY p",
            (self.sid,),
        )
        return {product_label(p): int(n) for p, n in rows}

    def intent_counts(self) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT intent, COUNT(*) FROM triage WHERE session_id=? GROUP BY intent", (self.sid,)
        )
        return {str(i): int(n) for i, n in rows}

    def _theme_sql(self, column: str) -> str:
        cases = []
        for theme in self.settings.themes:
            cond = " OR ".join(f"instr({column}, ?) > 0" for _ in theme.keywords)
            cases.append(f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)")
        return ", ".join(cases)

    def _theme_params(self) -> list[str]:
        return [k for theme in self.settings.themes for k in theme.keywords]

    def theme_counts(self) -> dict[str, int]:
        """How many question comments mention each theme."""
        if not self.settings.themes:
            return {}
        qs = _placeholders(QUESTION_INTENTS)
        row = self.conn.execute(
            f"SELECT {self._theme_sql('normalized')} FROM triage WHERE session_id=? AND intent IN ({qs})",
            (*self._theme_params(), self.sid, *QUESTION_INTENTS),
        ).fetchone()
        return {t.name: int(row[i] or 0) for i, t in enumerate(self.settings.themes)}

    def complaint_themes_per_minute(self) -> dict[str, dict[int, int]]:
        """Complaints (and negative logistics/after-sales comments) per theme per minute; ``全部`` = all."""
        themes = self.settings.themes
        cols = self._theme_sql("t.normalized")
        sel = f", {cols}" if themes else ""
        rows = self.conn.execute(
            f"SELECT CAST(c.ts / {SECONDS_PER_MINUTE} AS INTEGER) m, COUNT(*){sel} FROM triage t "
            f"JOIN comments c ON c.session_id=t.session_id AND c.comment_id=t.comment_id "
            f"WHERE t.session_id=? AND (t.intent='complaint' OR (t.sentiment='neg' AND t.intent IN "
            f"('logistics','after_sales','payment'))) GROUP BY m",
            (*self._theme_params(), self.sid),
        )
        out: dict[str, dict[int, int]] = {"全部": {}}
        for row in rows:
            m = int(row[0])
            out["全部"][m] = int(row[1])
            for i, t in enumerate(themes):
                n = int(row[2 + i] or 0)
                if n:
                    out.setdefault(t.name, {})[m] = n
        return out

    def responses(self, end_ts: float) -> list[ResponseStats]:
        """Per priority: items with an SLA, answered, breached, p50/p90 and a histogram of response times."""
        self.prepare()
        c = self.conn
        bounds = self.settings.response_buckets_s
        case = " ".join(f"WHEN first_ts - ts < {float(b)!r} THEN {i}" for i, b in enumerate(bounds))
        out: list[ResponseStats] = []
        prios = [r[0] for r in c.execute("SELECT DISTINCT priority FROM t_resp")]
        order = {p: i for i, p in enumerate(PRIORITY_ORDER)}
        for prio in sorted(prios, key=lambda p: (order.get(p, len(order)), p)):
            st = ResponseStats(prio, buckets=[0] * (len(bounds) + 1))
            row = c.execute(
                "SELECT COUNT(*), COUNT(first_ts), SUM(CASE WHEN"
                " first_ts IS NOT NULL THEN first_ts > deadline "
                "ELSE deadline < ? END) FROM t_resp WHERE priority=?",
                (end_ts, prio),
            ).fetchone()
            st.items, st.answered, st.breached = int(row[0]), int(row[1]), int(row[2] or 0)
            for b, n in c.execute(
                f"SELECT CASE {case} ELSE {len(bounds)} END b, COUNT(*) FROM t_resp "
                f"WHERE priority=? AND first_ts IS NOT NULL GROUP BY b",
                (prio,),
            ):
                st.buckets[int(b)] = int(n)
            if st.answered:
                st.p50_s = self._quantile(prio, st.answered, 0.5)
                st.p90_s = self._quantile(prio, st.answered, 0.9)
            out.append(st)
        return out

    def _quantile(self, prio: str, n: int, q: float) -> float:
        offset = min(n - 1, int(q * (n - 1) + 0.5))
        row = self.conn.execute(
            "SELECT first_ts - ts d FROM t_resp WHERE priority=? AND first_ts IS NOT NULL ORDER BY d "
            "LIMIT 1 OFFSET ?",
            (prio, offset),
        ).fetchone()
        return max(0.0, float(row[0]))

    def top_clusters(self) -> list[ClusterRow]:
        self.prepare()
        c, sid, n = self.conn, self.sid, self.settings.top_clusters
        qs = _placeholders(QUESTION_INTENTS)
        rows = c.execute(
            f"SELECT COALESCE(NULLIF(cluster_id,''), normalized) k, intent, COUNT(*) n, normalized "
            f"FROM triage WHERE session_id=? AND intent IN ({qs}) GROUP BY k ORDER BY n DESC, k LIMIT ?",
            (sid, *QUESTION_INTENTS, n),
        ).fetchall()
        if not rows:
            return []
        keys = [r[0] for r in rows]
        scripts: dict[str, tuple[int, str]] = {}
        for k, script, cnt in c.execute(
            "SELECT COALESCE(NULLIF(s.cluster_id,''),"
            " NULLIF(t.cluster_id,''), t.normalized) k, s.script_id, "
            "COUNT(*) FROM suggestions s JOIN triage t ON"
            " t.session_id=s.session_id AND t.comment_id=s.comment_id "
            "WHERE s.session_id=? AND s.script_id<>'' AND k IN"
            f" ({_placeholders(keys)}) GROUP BY k, s.script_id",
            (sid, *keys),
        ):
            if k not in scripts or int(cnt) > scripts[k][0]:
                scripts[k] = (int(cnt), str(script))
        answered: dict[str, tuple[int, int]] = {
            k: (int(a), int(tot))
            for k, a, tot in c.execute(
                f"SELECT ckey, COUNT(first_ts), COUNT(*) FROM t_resp WHERE ckey IN ({_placeholders(keys)}) "
                f"GROUP BY ckey",
                keys,
            )
        }
        return [
            ClusterRow(
                key=k,
                intent=intent,
                label=label,
                count=int(cnt),
                script_id=scripts.get(k, (0, ""))[1],
                answered=answered.get(k, (0, 0))[0],
                items=answered.get(k, (0, 0))[1],
            )
            for k, intent, cnt, label in rows
        ]

    def _handling(self, comment_id: str, ts: float, user_id: str, priority: str) -> str:
        """What operators did about one comment: its own actions, its suggestions', its cluster's (from its
        time on) and, in the moderation queue, the moderation of its author (from its time on)."""
        cluster = self.conn.execute(
            "SELECT cluster_id FROM triage WHERE session_id=? AND comment_id=?", (self.sid, comment_id)
        ).fetchone()
        cluster_id = cluster[0] if cluster and cluster[0] else None
        rows = self.conn.execute(
            "SELECT ts, kind, operator FROM t_act WHERE target_id=:cid "
            "UNION ALL SELECT a.ts, a.kind, a.operator FROM t_sugmap m JOIN t_act a "
            "ON a.target_id=m.suggestion_id WHERE m.comment_id=:cid "
            "UNION ALL SELECT ts, kind, operator FROM t_act WHERE target_id=:cluster AND ts>=:ts "
            "UNION ALL SELECT ts, kind, operator FROM t_mod WHERE :mod AND user_id=:uid AND ts>=:ts "
            "ORDER BY 1 LIMIT :n",
            {
                "cid": comment_id,
                "cluster": cluster_id,
                "ts": ts,
                "uid": user_id,
                "mod": priority == "mod",
                "n": HANDLING_SHOWN,
            },
        ).fetchall()
        return "、".join(f"{kind}({operator})" for _, kind, operator in rows)

    def _items(self, where: str, params: Sequence[Any], limit: int) -> list[ItemRow]:
        rank = " ".join(f"WHEN '{p}' THEN {i}" for i, p in enumerate(PRIORITY_ORDER))
        rows = self.conn.execute(
            f"SELECT r.comment_id, r.ts, c.user_id, c.nickname, c.text, r.intent, r.priority, r.deadline, "
            f"r.first_ts FROM t_resp r JOIN comments c ON c.session_id=? AND c.comment_id=r.comment_id "
            f"WHERE {where} ORDER BY CASE r.priority {rank} ELSE 99 END, r.ts LIMIT ?",
            (self.sid, *params, limit),
        ).fetchall()
        return [
            ItemRow(
                comment_id=r[0],
                ts=r[1],
                user_id=r[2],
                nickname=r[3],
                text=r[4],
                intent=r[5],
                priority=r[6],
                deadline=r[7],
                first_ts=r[8],
                handling=self._handling(r[0], r[1], r[2], r[6]),
            )
            for r in rows
        ]

    def breached(self, end_ts: float) -> tuple[list[ItemRow], int, int]:
        """(items answered late or never, breached total, never answered total)."""
        self.prepare()
        cond = "(r.first_ts > r.deadline OR (r.first_ts IS NULL AND r.deadline < ?))"
        total = int(self.conn.execute(f"SELECT COUNT(*) FROM t_resp r WHERE {cond}", (end_ts,)).fetchone()[0])
        unanswered = int(  # the part of the breached that never got any action
            self.conn.execute(
                "SELECT COUNT(*) FROM t_resp WHERE first_ts IS NULL AND deadline < ?", (end_ts,)
            ).fetchone()[0]
        )
        return self._items(cond, (end_ts,), self.settings.table_rows), total, unanswered

    def complaints(self) -> tuple[list[ItemRow], int]:
        self.prepare()
        answered = int(
            self.conn.execute(
                "SELECT COUNT(*) FROM t_resp WHERE intent='complaint' AND first_ts IS NOT NULL"
            ).fetchone()[0]
        )
        return self._items("r.intent='complaint'", (), self.settings.table_rows), answered

    def _actions(self, kinds: Sequence[str], limit: int) -> tuple[list[ActionRow], dict[str, int]]:
        c, sid = self.conn, self.sid
        rows = c.execute(  # the actions themselves, not their delivery attempts
            f"SELECT ts, operator, kind, target_id, user_id, coupon_rule_id, text FROM actions "
            f"WHERE session_id=? AND kind IN ({_placeholders(kinds)}) AND instr(action_id, '.')=0 "
            f"ORDER BY ts LIMIT ?",
            (sid, *kinds, limit),
        ).fetchall()
        return [ActionRow(*r) for r in rows], {}

    def coupons(self) -> tuple[list[ActionRow], dict[str, int]]:
        rows, _ = self._actions(COUPON_KINDS, self.settings.table_rows)
        totals = {
            str(rule or NO_RULE): int(n)
            for rule, n in self.conn.execute(
                f"SELECT coupon_rule_id, COUNT(DISTINCT {BASE_ACTION_ID}) FROM actions WHERE session_id=? "
                f"AND kind IN ({_placeholders(COUPON_KINDS)}) GROUP BY coupon_rule_id ORDER BY 2 DESC",
                (self.sid, *COUPON_KINDS),
            )
        }
        return rows, totals

    def moderation(self) -> tuple[list[ActionRow], dict[str, int]]:
        rows, _ = self._actions(MODERATION_KINDS, self.settings.table_rows)
        totals = {
            str(k): int(n)
            for k, n in self.conn.execute(
                f"SELECT kind, COUNT(DISTINCT {BASE_ACTION_ID}) FROM actions WHERE session_id=? AND kind IN "
                f"({_placeholders(MODERATION_KINDS)}) GROUP BY kind",
                (self.sid, *MODERATION_KINDS),
            )
        }
        return rows, totals

    def quality(self) -> tuple[list[QualityRow], dict[str, int]]:
        """The 质检 table: edited replies with the suggestion they replaced, forced sends (a reply sent
        although it carried an error-level term) and every sent reply that carries such a term."""
        from livecs.scripts.terms import FORCED_SEND_NOTE, term_gate

        c, sid = self.conn, self.sid
        gate = term_gate(self.scripts)
        rows: list[QualityRow] = []
        totals = {"edit": 0, "forced": 0, "term": 0}
        edits = c.execute(
            "SELECT a.ts, a.operator, a.text, (SELECT s.reply FROM suggestions s "
            "WHERE s.session_id=a.session_id AND (s.suggestion_id=a.target_id OR s.comment_id=a.target_id "
            "OR (s.cluster_id<>'' AND s.cluster_id=a.target_id)) ORDER BY s.score DESC LIMIT 1) "
            "FROM actions a WHERE a.session_id=? AND a.kind='edit' ORDER BY a.ts",
            (sid,),
        ).fetchall()
        for ts, operator, after, before in edits:
            totals["edit"] += 1
            rows.append(QualityRow(ts, operator, "edit", before or "", after, "、".join(gate.hits(after))))
        # a send is recorded once per delivery attempt: one row per send (its first record)
        sends = c.execute(
            "SELECT MIN(ts), operator, text, note FROM actions WHERE session_id=? AND kind='send' "
            "GROUP BY CASE WHEN instr(action_id, '.') > 0 "
            "THEN substr(action_id, 1, instr(action_id, '.') - 1) ELSE action_id END ORDER BY 1",
            (sid,),
        ).fetchall()
        for ts, operator, text, note in sends:
            terms = "、".join(gate.hits(text))
            if str(note).startswith(FORCED_SEND_NOTE):
                totals["forced"] += 1
                rows.append(QualityRow(ts, operator, "forced", "", text, terms))
            elif terms:
                totals["term"] += 1
                rows.append(QualityRow(ts, operator, "term", "", text, terms))
        rows.sort(key=lambda r: r.ts)
        return rows[: self.settings.table_rows], totals

    def collect(self) -> ReviewData:
        """All aggregates of the report (the TEMP tables are built first)."""
        self.prepare()
        end = self.end_ts
        summary = self.summary()
        per_minute = self.per_minute()
        if per_minute:
            summary.peak_minute, summary.peak_per_minute = max(
                per_minute.items(), key=lambda kv: (kv[1], -kv[0])
            )
        intents, negative = self.mix_per_minute()
        breached, breached_total, unanswered_total = self.breached(end)
        complaints, complaints_answered = self.complaints()
        coupons, coupon_totals = self.coupons()
        moderation, moderation_totals = self.moderation()
        quality, quality_totals = self.quality()
        on_air = self.on_air_periods()
        return ReviewData(
            meta=self.meta,
            summary=summary,
            per_minute=per_minute,
            intent_minute=intents,
            negative_minute=negative,
            product_minute=self.product_per_minute(on_air),
            on_air=on_air,
            buy_minute=self.buys_per_minute(),
            intent_counts=self.intent_counts(),
            theme_counts=self.theme_counts(),
            complaint_theme_minute=self.complaint_themes_per_minute(),
            responses=self.responses(end),
            clusters=self.top_clusters(),
            breached_items=breached,
            breached_total=breached_total,
            unanswered_total=unanswered_total,
            complaints=complaints,
            complaints_answered=complaints_answered,
            coupons=coupons,
            coupon_totals=coupon_totals,
            moderation=moderation,
            moderation_totals=moderation_totals,
            buy_by_product=self.orders_by_product(),
            quality=quality,
            quality_totals=quality_totals,
            tickets=self.tickets(),
            marks=self.marks(),
            survey=self.survey(),
        )

    def marks(self) -> dict[str, Any]:
        """Resolution and satisfaction marks: the last per card (comment or cluster) and kind, rated overall,
        by the card's intent and by the operator who marked it."""
        from livecs.tickets.resolution import MARKS, Tally

        tally = Tally()
        kinds = list(MARKS)
        rows = self.conn.execute(
            "SELECT a.kind, a.target_id, a.operator, a.note, COALESCE("
            "(SELECT t.intent FROM triage t WHERE t.session_id=a.session_id AND t.comment_id=a.target_id), "
            "(SELECT t.intent FROM triage t WHERE t.session_id=a.session_id AND t.cluster_id=a.target_id "
            "LIMIT 1), '') FROM actions a "
            f"WHERE a.session_id=? AND a.kind IN ({_placeholders(kinds)}) ORDER BY a.ts, a.action_id",
            (self.sid, *kinds),
        )
        for kind, target, operator, note, intent in rows:
            if note in MARKS[kind]:
                tally.mark(kind, target, intent, operator, note)
        return tally.summary()

    def survey(self) -> tuple[int, int]:
        """(satisfied, answered) of the survey results imported for the session."""
        row = self.conn.execute(
            "SELECT SUM(json_extract(data, '$.satisfied') = 1), COUNT(*) FROM events "
            "WHERE session_id=? AND kind='survey'",
            (self.sid,),
        ).fetchone()
        return int(row[0] or 0), int(row[1] or 0)

    def tickets(self, now: float | None = None) -> list[TicketRow]:
        """The session's tickets (none when the record has no ``tickets`` table: an older record)."""
        from livecs.tickets.model import Ticket, overdue

        has = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='tickets'"
        ).fetchone()
        if not has:
            return []
        now = time.time() if now is None else now
        out = []
        for (raw,) in self.conn.execute(
            "SELECT data FROM tickets WHERE session_id=? ORDER BY ticket_no", (self.sid,)
        ):
            data = loads(raw)
            if not isinstance(data, dict):
                continue
            t = Ticket.from_dict(data)
            first = t.comments[0] if t.comments else {}
            out.append(
                TicketRow(
                    ticket_id=t.ticket_id,
                    status=t.status.value,
                    priority=t.priority,
                    intent=t.intent,
                    owner=t.owner,
                    created_at=t.created_at,
                    created_by=t.created_by,
                    user_id=str(t.viewer.get("user_id", "")),
                    nickname=str(t.viewer.get("nickname", "")),
                    text=str(first.get("text", "")),
                    note=t.note,
                    due_first_response=t.due_first_response,
                    due_resolution=t.due_resolution,
                    first_response_at=t.first_response_at,
                    resolved_at=t.resolved_at,
                    closed_at=t.closed_at,
                    outcome=t.outcome,
                    resolution=t.resolution,
                    overdue=overdue(t, now),
                )
            )
        return out

    # -- streams for the exports ------------------------------------------------------------------------
    def prepare_exports(self) -> None:
        """``t_sug``: per comment, how many suggestions and the best one's script."""
        self.prepare()
        c = self.conn
        c.execute("DROP TABLE IF EXISTS temp.t_sug")
        c.execute(
            "CREATE TEMP TABLE t_sug (comment_id TEXT PRIMARY KEY, n INTEGER, script_id TEXT) WITHOUT ROWID"
        )
        c.execute(
            # a bare column next to MAX() comes from the row holding the maximum (SQLite guarantees it)
            "INSERT INTO t_sug SELECT comment_id, n, script_id"
            " FROM (SELECT comment_id, COUNT(*) n, script_id, "
            "MAX(score) FROM suggestions WHERE session_id=? GROUP BY comment_id)",
            (self.sid,),
        )
        c.commit()

    def stream(self, sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        cur = self.conn.execute(sql, params)
        size = self.settings.chunk_rows
        while True:
            rows = cur.fetchmany(size)
            if not rows:
                return
            yield from rows

    def count(self, table: str) -> int:
        if table not in REQUIRED_TABLES:
            raise ValueError(table)
        return int(
            self.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE session_id=?", (self.sid,)).fetchone()[0]
        )


def loads(raw: str | bytes | None) -> Any:
    """JSON column → value (``None`` for NULL or bad JSON)."""
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
