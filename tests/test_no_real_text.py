"""No line of the repository is a real comment or review (issue 12, generalised).

The real data beside the repository (``../shared/data/real``: the 36 selling rooms of
``commerce_rooms_dev.csv``, the Bilibili room 11365, the two review sets) has no licence, so none of its text
may be ours. Every comment-like line of every text file that git tracks (or would add) is compared with every
real comment and review after normalising (NFKC, lower case, whitespace, punctuation and symbols removed;
:func:`tests.real_text_support.normalise`) and must differ:

* script libraries, catalogues, coupons and labelled pairs (``scripts_library/**``: every YAML scalar, every
  CSV cell and ``|``-separated value, every JSONL string), the configuration (``config/*.yaml``), the triage
  lexicon and hand-written training lines (``livecs/triage/data/*.txt``: every line, and the quoted examples
  of ``#`` lines), the evaluation sets (``docs/eval/*.jsonl``);
* every string literal of the Python code and tests (fixtures are written inline or generated from
  literals: ``room_frames.dyf`` is written by ``tests/ingest/douyin/dy_fixtures.py``), string literals of
  the console's JavaScript and HTML;
* in Markdown (the README is prose) only the quoted examples: 「…」, "…", “…” and `…`.

Exempt, because they are language rather than someone's text (:func:`tests.real_text_support.exemption`):

* lines of fewer than :data:`~tests.real_text_support.MIN_CHARS` (6) normalised characters — 有S码吗,
  几号链接, 国补 are what every viewer types, and short keywords exist to occur inside comments;
* a unit of fewer than 6 characters repeated (哈哈哈哈哈哈, 666666, 拍了拍了拍了);
* one latin word written without spaces (surprise, noooooo);
* names: ``name`` and ``aliases`` fields (shop, product and coupon names; a viewer typing a bare product
  name such as ace5pro is naming it).

Longer lines are held to the rule however generic they look. The XLSX export of the apparel library is not
read: it is tested to match the YAML, which is. The real texts are normalised once per module (about 1 s;
the whole module takes about 3 s).

The real files are read from ``../shared/data/real`` beside the repository or ``$LIVECS_SHARED/data/real``
(:data:`livecs.triage.real_data.REAL_DIR`); without them the test skips, saying where it looked — except under
CI (``CI=true``), which has ``../shared``, where it fails. A failure names the file, the place and the real
file matched, never the text (it is a real comment).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from livecs.paths import SHARED_ENV
from livecs.triage.real_data import REAL_DIR
from tests.real_text_support import (
    MIN_CHARS,
    Line,
    RealTexts,
    exemption,
    file_lines,
    load_real_texts,
    missing_real_files,
    normalise,
    repository_lines,
)


@pytest.fixture(scope="module")
def lines() -> list[Line]:
    return list(repository_lines())


@pytest.fixture(scope="module")
def real_texts() -> RealTexts:
    missing = missing_real_files(REAL_DIR)
    if missing:
        message = (
            f"real data not found ({', '.join(map(str, missing))}): put ../shared beside the repository or "
            f"set {SHARED_ENV}"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI has ../shared)")
        pytest.skip(message)
    return load_real_texts(REAL_DIR)


def test_normalise_ignores_spaces_punctuation_symbols_and_width() -> None:
    assert normalise(" 有ＮＦＣ吗？！ ") == normalise("有nfc吗") == "有nfc吗"
    assert normalise("A5 和 A6，差在哪~✨") == "a5和a6差在哪"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("有S码吗？", "short"),
        ("哈哈哈哈 哈哈哈哈", "repeated unit"),
        ("6 6 6 6 6 6 6", "repeated unit"),
        ("拍了拍了，拍了", "repeated unit"),
        ("Noooooooo!", "one latin word"),
        ("thank you baby", None),  # several words: a line
        ("今天的链接在几号", None),
        ("拍了拍了拍了啊", None),
    ],
)
def test_exemptions(text: str, reason: str | None) -> None:
    assert exemption(text, normalise(text)) == reason


def test_every_kind_of_file_gives_its_lines(tmp_path: Path) -> None:
    files = {
        "lib.yaml": (
            "scripts:\n  - examples: [颜色有几种可以选]\n    name: 星河Q9 Max\n    aliases: [星河q9max]\n"
        ),
        "pairs.jsonl": '{"q": "快递走哪家能到新疆", "n": 1}\n',
        "scripts.csv": "id,examples,aliases\nx,发什么快递呀|几天能到货呢,大码裙\n",
        "examples.txt": '# streamer: "想要黑色的扣个1"\n## product neu\n黑色还剩几件\n',
        "code.py": 'TEXTS = ("第一行文字\\n第二行文字", f"{1}号链接还有吗")\n',
        "app.js": "const a = '主播今天几点下播';\nconst b = `第二个\n模板`;\n",
        "README.md": "A request — 「能不能回一下」 — is prose around it.\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    got = {
        name: [(ln.where, ln.text, ln.is_name) for ln in file_lines(tmp_path / name, name)] for name in files
    }
    assert got["lib.yaml"] == [
        ("line 1 (key)", "scripts", False),
        ("line 2 (key)", "examples", False),
        ("line 2 (examples)", "颜色有几种可以选", False),
        ("line 3 (key)", "name", False),
        ("line 3 (name)", "星河Q9 Max", True),
        ("line 4 (key)", "aliases", False),
        ("line 4 (aliases)", "星河q9max", True),
    ]
    assert got["pairs.jsonl"] == [("line 1 (q)", "快递走哪家能到新疆", False)]
    assert got["scripts.csv"] == [
        ("row 2 (id)", "x", False),
        ("row 2 (examples)", "发什么快递呀", False),
        ("row 2 (examples)", "几天能到货呢", False),
        ("row 2 (aliases)", "大码裙", True),
    ]
    assert got["examples.txt"] == [
        ("line 1 (quoted)", "想要黑色的扣个1", False),
        ("line 3", "黑色还剩几件", False),
    ]
    assert [text for _, text, _ in got["code.py"]] == ["第一行文字", "第二行文字", "号链接还有吗"]
    assert [(where, text) for where, text, _ in got["app.js"]] == [
        ("line 1", "主播今天几点下播"),
        ("line 2", "第二个"),
        ("line 2", "模板"),
    ]
    assert [text for _, text, _ in got["README.md"]] == ["能不能回一下"]


def test_the_scan_reaches_every_comment_file(lines: list[Line]) -> None:
    per_file = Counter(ln.path for ln in lines)
    for path, at_least in {
        "scripts_library/apparel/library.yaml": 500,
        "scripts_library/apparel/match_pairs.jsonl": 200,
        "scripts_library/apparel/csv/scripts.csv": 500,
        "scripts_library/skincare/library.yaml": 500,
        "scripts_library/skincare/match_pairs.jsonl": 180,
        "scripts_library/real_rooms/meidatu/library.yaml": 200,
        "scripts_library/real_rooms/oneplus/library.yaml": 200,
        "livecs/triage/data/examples.txt": 3000,
        "livecs/triage/data/examples_rooms_a.txt": 600,
        "livecs/triage/data/lexicon.yaml": 200,
        "docs/eval/fresh_comments.jsonl": 500,
        "livecs/ingest/simulator.py": 200,
        "tests/triage/test_engine.py": 100,
        "README.md": 100,
    }.items():
        assert per_file[path] >= at_least, path
    assert sum(n for p, n in per_file.items() if p.startswith("livecs/triage/data/examples")) > 10_000


def test_no_line_is_a_real_comment(lines: list[Line], real_texts: RealTexts) -> None:
    assert len(real_texts) > 100_000  # all four files were read
    copied = []
    for line in lines:
        key = normalise(line.text)
        if len(key) >= MIN_CHARS and key in real_texts and not line.is_name and not exemption(line.text, key):
            copied.append(f"{line.path} {line.where} = a line of {real_texts[key]}")
    # the message says where, never the text (it is a real comment)
    assert not copied, f"{len(copied)} lines equal a real comment — reword them:\n" + "\n".join(copied)
