"""``python run.py eval-rooms``: real rooms as the judge.

Replays whole rooms (the columns of ``commerce_rooms_dev.csv``, or wire-format JSON Lines) in each room's
own order through the code a broadcast runs — the ingest :class:`~livecs.ingest.validate.Validator`, then the
pipeline's processor (:class:`~livecs.processor.live.LiveProcessor`: triage with its flood windows and
repeated-question clusters, priorities, script matching when a library is given) — and reports per room and
overall: P0/P1/mod per 1,000 comments and, with labels, the operator's measures (false P0 per 1,000 calm
comments, P0 precision and recall, intent/sentiment accuracy, intent macro-F1, moderation precision and spam
recall) with 95 % Wilson intervals, plus the worst false alarms verbatim.

Labels are joined by ``(room, row)`` — ``row`` is the 0-based data row of the rooms file — in either the
shared format (``../shared/data/real/commerce_dev_labels.jsonl``, carrying the text) or livecs's own label
files (``livecs/triage/data/real_labels/*.jsonl``, carrying a hash of the text instead of the text, so no real
comment text is ever stored in the repository). A label whose text hash does not match its row is skipped
and counted.

Rooms CSV times are minutes (``2025/4/24 17:19``, UTC+8); the comments of one minute are spread evenly over
it, in file order, so the sliding windows see a broadcast's pace rather than bursts of 60 s worth at once.
"""

from __future__ import annotations

import csv
import hashlib
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from livecs.ingest.validate import Rejected, Validator, parse_ts
from livecs.models import Comment, Priority, Triage

#: the taxonomy's intents and what counts as an alarm (P0) by the gold labels
ALARM_INTENTS = frozenset({"complaint"})
ANGRY_ALARM_INTENTS = frozenset({"logistics", "after_sales"})


def text_hash(text: str) -> str:
    """The short hash stored with a label instead of the comment's text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


@dataclass(slots=True)
class RoomRow:
    """One comment of a rooms file, before ingest validation."""

    row: int  # 0-based data row of the file
    room: str
    platform: str
    user_id: str
    text: str
    ts: float
    category: str = ""


@dataclass(slots=True)
class Label:
    intent: str
    sentiment: str
    emotion: str
    sample: str = ""  # random | enriched | flagged …
    source: str = ""

    @property
    def alarm(self) -> bool:
        """Gold says an operator must act now: a complaint, or angry about shipping or after-sales."""
        return self.intent in ALARM_INTENTS or (
            self.intent in ANGRY_ALARM_INTENTS and self.sentiment == "neg" and self.emotion == "angry"
        )


def _parse_minute(value: str) -> float | None:
    """The ingest's reading of a time (``2025/4/24 17:19`` is China time), or None when it is none."""
    try:
        return parse_ts(value)
    except ValueError:
        return None


_BASE_TS = 1_640_000_000.0  # where relative ``delta_s`` recordings start


def _float(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def read_rooms(path: str | Path) -> list[RoomRow]:
    """Rows of a rooms CSV (``platform,room,category,time,user_id,text``; or a one-room danmaku CSV with
    ``delta_s,text,user``, the room named after the file) or a wire-format JSONL file."""
    path = Path(path)
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return list(_read_jsonl(path))
    return list(_read_csv(path))


def _read_csv(path: Path) -> Iterator[RoomRow]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        columns = set(reader.fieldnames or [])
        if "text" not in columns:
            raise ValueError(f"{path}: missing column text")
        room_default = path.stem  # a one-room file (the Bilibili danmaku CSV) has no room column
        rows: list[tuple[int, dict[str, str], float | None]] = []
        for i, rec in enumerate(reader):
            rec.setdefault("room", room_default)
            rec["user_id"] = rec.get("user_id") or rec.get("user") or ""
            if "delta_s" in rec:  # seconds since the start of the recording: exact, no spreading
                rows.append((i, rec, None))
                rec["ts"] = str(_BASE_TS + _float(rec.get("delta_s")))
                continue
            stamp = rec.get("time") or rec.get("ts") or ""
            rows.append((i, rec, _parse_minute(stamp) if stamp else None))
    # spread each (room, minute) group evenly over its minute, in file order
    groups: dict[tuple[str, float], list[int]] = defaultdict(list)
    for k, (_, rec, minute) in enumerate(rows):
        if minute is not None:
            groups[(rec.get("room") or "", minute)].append(k)
    offset: dict[int, float] = {}
    for members in groups.values():
        n = len(members)
        for j, k in enumerate(members):
            offset[k] = 60.0 * (j + 0.5) / n
    for k, (i, rec, minute) in enumerate(rows):
        yield RoomRow(
            row=i,
            room=rec.get("room") or "",
            platform=rec.get("platform") or "generic",
            user_id=rec.get("user_id") or "",
            text=rec.get("text") or "",
            ts=(minute + offset[k]) if minute is not None else _float(rec.get("ts")),
            category=rec.get("category") or "",
        )


def _read_jsonl(path: Path) -> Iterator[RoomRow]:
    with path.open("rb") as fh:
        for i, line in enumerate(fh):
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(obj, dict) or obj.get("type", "comment") != "comment":
                continue
            ts = obj.get("ts", 0.0)
            yield RoomRow(
                row=i,
                room=str(obj.get("room") or ""),
                platform=str(obj.get("platform") or "generic"),
                user_id=str(obj.get("user_id") or obj.get("uid") or ""),
                text=str(obj.get("text") or ""),
                ts=float(ts) if isinstance(ts, (int, float)) else 0.0,
                category=str(obj.get("category") or ""),
            )


def read_labels(
    paths: Iterable[str | Path], rows: list[RoomRow] | None = None
) -> tuple[dict[tuple[str, int], Label], Counter[str]]:
    """Labels keyed by ``(room, row)`` from label files (later files win); counts of skipped labels."""
    by_row = {r.row: r for r in rows} if rows is not None else {}
    labels: dict[tuple[str, int], Label] = {}
    skipped: Counter[str] = Counter()
    for path in paths:
        with Path(path).open(encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                obj = orjson.loads(line)
                room, row = str(obj.get("room", "")), int(obj["row"])
                if rows is not None:
                    found = by_row.get(row)
                    if found is None or found.room != room:
                        skipped["row_not_in_file"] += 1
                        continue
                    expected = obj.get("text_sha1")
                    if expected and text_hash(found.text) != expected:
                        skipped["text_hash_mismatch"] += 1
                        continue
                    if "text" in obj and obj["text"] != found.text:
                        skipped["text_mismatch"] += 1
                        continue
                labels[(room, row)] = Label(
                    intent=str(obj["intent"]),
                    sentiment=str(obj["sentiment"]),
                    emotion=str(obj.get("emotion") or ""),
                    sample=str(obj.get("sample") or ""),
                    source=Path(path).name,
                )
    return labels, skipped


@dataclass(slots=True)
class Outcome:
    """What the engine made of one comment, in context."""

    row: RoomRow
    triage: Triage | None  # None: rejected by ingest validation
    reject: str = ""


ProcessFn = Callable[[Comment, float], Triage | None]


def replay(rows: list[RoomRow], process: ProcessFn, validator: Validator | None = None) -> list[Outcome]:
    """Each room in its own time order (ties in file order) through validation and ``process``."""
    validator = validator or Validator()
    by_room: dict[str, list[RoomRow]] = defaultdict(list)
    for r in rows:
        by_room[r.room].append(r)
    out: list[Outcome] = []
    for room_rows in by_room.values():
        room_rows.sort(key=lambda r: (r.ts, r.row))
        for r in room_rows:
            obj = {
                "id": f"{r.room}#{r.row}",
                "platform": r.platform,
                "room": r.room,
                "user_id": r.user_id,
                "text": r.text,
                "ts": r.ts or None,
            }
            try:
                comment = validator.record(obj, now=r.ts or time.time())
            except Rejected as exc:
                out.append(Outcome(r, None, exc.reason))
                continue
            assert isinstance(comment, Comment)
            triage = process(comment, r.ts or time.time())
            out.append(Outcome(r, triage, "" if triage is not None else "no_triage"))
    return out


# --- measures ------------------------------------------------------------------------------------------


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion (0..1); (0, 1) for n = 0."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass
class Ratio:
    hits: int
    n: int
    scale: float = 1.0  # 1000 for "per 1,000"

    def as_dict(self) -> dict[str, Any]:
        low, high = wilson(self.hits, self.n)
        value = self.hits / self.n if self.n else None
        return {
            "value": None if value is None else round(value * self.scale, 4),
            "ci95": [round(low * self.scale, 4), round(high * self.scale, 4)],
            "hits": self.hits,
            "n": self.n,
        }


def macro_f1(gold: list[str], pred: list[str]) -> float:
    labels = sorted(set(gold))
    if not labels:
        return 0.0
    total = 0.0
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        total += 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return total / len(labels)


@dataclass
class RoomReport:
    comments: int = 0
    rejected: int = 0
    by_priority: Counter[str] = field(default_factory=Counter)

    def rates(self) -> dict[str, float]:
        n = max(self.comments, 1)
        return {
            "comments": self.comments,
            "rejected": self.rejected,
            "p0_per_1000": round(1000 * self.by_priority[Priority.P0.value] / n, 2),
            "p1_per_1000": round(1000 * self.by_priority[Priority.P1.value] / n, 2),
            "mod_per_1000": round(1000 * self.by_priority[Priority.MOD.value] / n, 2),
        }


def labelled_measures(
    pairs: list[tuple[Outcome, Label]], worst: int = 15
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The operator's measures over labelled comments; the worst false alarms (text shown, never stored)."""
    scored = [(o, lab) for o, lab in pairs if o.triage is not None]
    random_part = [(o, lab) for o, lab in scored if lab.sample in ("random", "")]

    def is_p0(o: Outcome) -> bool:
        return o.triage is not None and o.triage.priority is Priority.P0

    def is_mod(o: Outcome) -> bool:
        return o.triage is not None and o.triage.priority is Priority.MOD

    calm_random = [(o, lab) for o, lab in random_part if not lab.alarm]
    p0_all = [(o, lab) for o, lab in scored if is_p0(o)]
    alarms = [(o, lab) for o, lab in scored if lab.alarm]
    mods = [(o, lab) for o, lab in scored if is_mod(o)]
    spam = [(o, lab) for o, lab in scored if lab.intent == "spam"]
    assert all(o.triage is not None for o, _ in scored)
    measures = {
        "labelled": len(scored),
        "random_sample": len(random_part),
        "false_p0_per_1000_calm": Ratio(
            sum(is_p0(o) for o, _ in calm_random), len(calm_random), 1000
        ).as_dict(),
        "p0_precision": Ratio(sum(lab.alarm for _, lab in p0_all), len(p0_all)).as_dict(),
        "p0_recall": Ratio(sum(is_p0(o) for o, _ in alarms), len(alarms)).as_dict(),
        "intent_accuracy_random": Ratio(
            sum(o.triage.intent.value == lab.intent for o, lab in random_part if o.triage), len(random_part)
        ).as_dict(),
        "sentiment_accuracy_random": Ratio(
            sum(o.triage.sentiment.value == lab.sentiment for o, lab in random_part if o.triage),
            len(random_part),
        ).as_dict(),
        "intent_macro_f1": round(
            macro_f1(
                [lab.intent for _, lab in scored], [o.triage.intent.value for o, _ in scored if o.triage]
            ),
            4,
        ),
        "moderation_precision": Ratio(sum(lab.intent == "spam" for _, lab in mods), len(mods)).as_dict(),
        "spam_recall": Ratio(sum(is_mod(o) for o, _ in spam), len(spam)).as_dict(),
    }
    false_alarms = [
        {
            "room": o.row.room,
            "row": o.row.row,
            "text": o.row.text,
            "engine": f"{o.triage.priority.value} {o.triage.intent.value}/{o.triage.sentiment.value}"
            + (f"/{o.triage.emotion.value}" if o.triage.emotion.value else ""),
            "gold": f"{lab.intent}/{lab.sentiment}" + (f"/{lab.emotion}" if lab.emotion else ""),
            "why": ",".join(o.triage.reasons),
        }
        for o, lab in scored
        if o.triage is not None and ((is_p0(o) and not lab.alarm) or (is_mod(o) and lab.intent != "spam"))
    ]
    false_alarms.sort(key=lambda f: (not str(f["engine"]).startswith("P0"), f["room"], f["row"]))
    return measures, false_alarms[:worst]


def missed(pairs: list[tuple[Outcome, Label]]) -> list[dict[str, Any]]:
    """Gold alarms the engine did not make P0 and gold spam it did not moderate (text shown, never stored)."""
    out = []
    for o, lab in pairs:
        t = o.triage
        if t is None:
            continue
        if (lab.alarm and t.priority is not Priority.P0) or (
            lab.intent == "spam" and t.priority is not Priority.MOD
        ):
            out.append({
                "room": o.row.room, "row": o.row.row, "text": o.row.text,
                "engine": f"{t.priority.value} {t.intent.value}/{t.sentiment.value}",
                "gold": f"{lab.intent}/{lab.sentiment}" + (f"/{lab.emotion}" if lab.emotion else ""),
            })  # fmt: skip
    return out


def evaluate_rooms(
    rows: list[RoomRow],
    process: ProcessFn,
    labels: dict[tuple[str, int], Label] | None = None,
    worst: int = 15,
) -> dict[str, Any]:
    """Replay ``rows`` through ``process`` and measure (see the module docstring)."""
    started = time.perf_counter()
    outcomes = replay(rows, process)
    elapsed = time.perf_counter() - started
    rooms: dict[str, RoomReport] = defaultdict(RoomReport)
    total = RoomReport()
    for o in outcomes:
        for report in (rooms[o.row.room], total):
            if o.triage is None:
                report.rejected += 1
                continue
            report.comments += 1
            report.by_priority[o.triage.priority.value] += 1
    result: dict[str, Any] = {
        "overall": total.rates(),
        "rooms": {room: rep.rates() for room, rep in sorted(rooms.items(), key=lambda kv: -kv[1].comments)},
        "seconds": round(elapsed, 2),
    }
    if labels:
        pairs = [(o, labels[(o.row.room, o.row.row)]) for o in outcomes if (o.row.room, o.row.row) in labels]
        measures, false_alarms = labelled_measures(pairs, worst)
        result["labelled"] = measures
        result["worst_false_alarms"] = false_alarms
        per_room: dict[str, list[tuple[Outcome, Label]]] = defaultdict(list)
        for o, lab in pairs:
            per_room[o.row.room].append((o, lab))
        for room, room_pairs in per_room.items():
            m, _ = labelled_measures(room_pairs, 0)
            result["rooms"][room]["labelled"] = len(room_pairs)
            result["rooms"][room]["p0_labelled"] = m["p0_precision"]["n"]
            result["rooms"][room]["false_p0_labelled"] = m["p0_precision"]["n"] - m["p0_precision"]["hits"]
    return result


def _fmt_ratio(r: dict[str, Any], pct: bool = False) -> str:
    if r["value"] is None:
        return "n/a (n=0)"
    low, high = r["ci95"]
    if pct:
        return f"{r['value']:.3f} [{low:.3f}–{high:.3f}] ({r['hits']}/{r['n']})"
    return f"{r['value']:.1f} [{low:.1f}–{high:.1f}] ({r['hits']}/{r['n']})"


def format_report(result: dict[str, Any], rooms: bool = True) -> str:
    o = result["overall"]
    lines = [
        f"comments {o['comments']} (rejected {o['rejected']}) in {result['seconds']} s",
        f"P0 {o['p0_per_1000']}/1000   P1 {o['p1_per_1000']}/1000   mod {o['mod_per_1000']}/1000",
    ]
    if rooms:
        lines.append("")
        lines.append(f"{'room':24} {'n':>6} {'P0‰':>6} {'P1‰':>6} {'mod‰':>6} {'lab':>4} {'fP0':>4}")
        for room, r in result["rooms"].items():
            lines.append(
                f"{room[:24]:24} {r['comments']:6} {r['p0_per_1000']:6.1f} {r['p1_per_1000']:6.1f} "
                f"{r['mod_per_1000']:6.1f} {r.get('labelled', 0):4} {r.get('false_p0_labelled', 0):4}"
            )
    lab = result.get("labelled")
    if lab:
        lines += [
            "",
            f"labelled {lab['labelled']} (random sample {lab['random_sample']}); 95 % Wilson intervals",
            f"  false P0 per 1,000 calm (random)  {_fmt_ratio(lab['false_p0_per_1000_calm'])}",
            f"  P0 precision                      {_fmt_ratio(lab['p0_precision'], True)}",
            f"  P0 recall                         {_fmt_ratio(lab['p0_recall'], True)}",
            f"  intent accuracy (random)          {_fmt_ratio(lab['intent_accuracy_random'], True)}",
            f"  sentiment accuracy (random)       {_fmt_ratio(lab['sentiment_accuracy_random'], True)}",
            f"  intent macro-F1 (all labelled)    {lab['intent_macro_f1']:.3f}",
            f"  moderation precision              {_fmt_ratio(lab['moderation_precision'], True)}",
            f"  spam recall                       {_fmt_ratio(lab['spam_recall'], True)}",
        ]
        if result.get("worst_false_alarms"):
            lines += ["", "worst false alarms (engine | gold | why):"]
            for f in result["worst_false_alarms"]:
                lines.append(
                    f"  [{f['room']}#{f['row']}] {f['text'][:60]}  | {f['engine']} | {f['gold']} | {f['why']}"
                )
    return "\n".join(lines)
