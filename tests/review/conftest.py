"""Fixtures of the review tests: one session of known composition, reviewed once masked and once not.

The session is :func:`tests.review.session_db.synthesize` (seeded: intents, viewers, replies with delays,
coupons, mutes, paid orders with order ids) plus hand-written comments full of personal data (phones in
several spellings, ID numbers, addresses, order numbers, e-mails, QQ/WeChat ids) from a viewer whose nickname
and id are personal too, with triage rows, a suggestion echoing the nickname and an operator reply.
"""

from __future__ import annotations

import sqlite3
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from livecs.review import ReviewResult, build_review
from livecs.store import insert_sql
from tests.review.session_db import Composition, synthesize

SEED = 11
N_COMMENTS = 3_000
DURATION_S = 3_600.0
START = 1_716_033_600.0  # 2024-05-18 20:00 Asia/Shanghai
PII_USER = "13900007777"  # a platform id that is a phone number
PII_NICK = "王小明13900007777"
#: (comment text, the raw personal strings in it that no output may contain)
PII_COMMENTS: list[tuple[str, list[str]]] = [
    ("我的电话13812345678 快点发货", ["13812345678"]),
    ("电话 139-8765-4321 联系我", ["139-8765-4321", "13987654321"]),
    ("+86 137 1234 5678 打我电话", ["137 1234 5678", "13712345678"]),
    ("身份证110101199003071234要登记吗", ["110101199003071234"]),
    ("实名 11010519491231002X 可以吗", ["11010519491231002X"]),
    ("收货地址：浙江省杭州市西湖区文三路100号 改一下", ["文三路100号", "西湖区文三路"]),
    ("寄到幸福小区3栋2单元502室 谢谢", ["幸福小区3栋2单元502室", "3栋2单元502室"]),
    ("订单号 2024051812345678 还没发货 骗子", ["2024051812345678"]),
    ("邮箱 buyer.test@example.com 发发票", ["buyer.test@example.com"]),
    ("加我qq 12345678 领福利", ["qq 12345678"]),
    ("vx: abc_12345 私聊", ["abc_12345"]),
]
PII_RAW = [raw for _, raws in PII_COMMENTS for raw in raws] + [PII_USER, PII_NICK]


@dataclass
class Session:
    db: Path
    comp: Composition
    pii_ids: list[str]


def _add_pii(db: Path, comp: Composition) -> list[str]:
    conn = sqlite3.connect(db)
    ids = []
    with conn:
        for i, (text, _) in enumerate(PII_COMMENTS):
            cid = f"pii{i}"
            ts = START + 600 + i * 7.0
            ids.append(cid)
            conn.execute(
                insert_sql("comments", conflict=None),
                (comp.session_id, cid, "synth", comp.room, PII_USER, PII_NICK, 0, 0, text, ts, 0, None, ts),
            )
            intent = "complaint" if "骗子" in text else "order"
            prio = "P0" if intent == "complaint" else "P2"
            conn.execute(
                insert_sql("triage", conflict=None),
                (
                    comp.session_id,
                    cid,
                    comp.room,
                    text,
                    intent,
                    0.9,
                    "neg" if intent == "complaint" else "neu",
                    0.3,
                    "",
                    0,
                    "",
                    "",
                    1,
                    prio,
                    ts + (30 if prio == "P0" else 180),
                    '["含个人信息"]',
                ),
            )
        # a suggestion and a reply that echo the viewer's nickname and phone
        conn.execute(
            insert_sql("suggestions", conflict=None),
            (
                comp.session_id,
                "pii-s0",
                comp.room,
                "pii0",
                "",
                "P2",
                "addr-change",
                f"@{PII_NICK} 亲，已记录电话13812345678",
                "",
                0.9,
                "[]",
                "",
                START + 601,
            ),
        )
        conn.execute(
            insert_sql("actions", conflict=None),
            (
                comp.session_id,
                "pii-a0",
                comp.room,
                "op-a",
                "send",
                "pii-s0",
                START + 610,
                f"@{PII_NICK} 亲，已记录电话13812345678",
                "",
                "",
                PII_USER,
                "sent",
            ),
        )
        conn.execute(
            insert_sql("events", conflict=None),
            (
                comp.session_id,
                "pii-e0",
                "order_paid",
                "synth",
                comp.room,
                PII_USER,
                PII_NICK,
                0,
                START + 620,
                '{"order_id": "DD2024051899998888", "link": 1, "address": "幸福小区3栋2单元502室"}',
            ),
        )
    conn.close()
    comp.orders_paid += 1
    return ids


@pytest.fixture(scope="session")
def session_db(tmp_path_factory: pytest.TempPathFactory) -> Session:
    db = tmp_path_factory.mktemp("review-db") / "livecs.db"
    comp = synthesize(db, N_COMMENTS, seed=SEED, duration_s=DURATION_S, start_ts=START, room="shop")
    ids = _add_pii(db, comp)
    return Session(db, comp, ids)


@pytest.fixture(scope="session")
def masked_review(session_db: Session, tmp_path_factory: pytest.TempPathFactory) -> ReviewResult:
    out = tmp_path_factory.mktemp("review-masked")
    return build_review(session_db.db, "latest", out, "html,csv,xlsx,jsonl")


@pytest.fixture(scope="session")
def unmasked_review(session_db: Session, tmp_path_factory: pytest.TempPathFactory) -> ReviewResult:
    out = tmp_path_factory.mktemp("review-unmasked")
    return build_review(session_db.db, session_db.comp.session_id, out, "html,csv,jsonl", mask=False)


def output_blobs(result: ReviewResult) -> Iterator[tuple[str, bytes]]:
    """Every output file's bytes; an XLSX is unzipped into its XML parts."""
    for path in result.files:
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                for name in z.namelist():
                    yield f"{path.name}:{name}", z.read(name)
        else:
            yield path.name, path.read_bytes()
