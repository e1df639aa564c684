"""No line of the real-room script libraries is a real comment (issue 12).

``scripts_library/real_rooms/*`` were written while reading the real dev rooms, whose text has no licence and
must not enter the repository: every example, reply and streamer line must differ from every comment of
``commerce_rooms_dev.csv`` after normalising (NFKC, lower case, spaces, punctuation and symbols removed), and
so must every keyword phrase of :data:`PHRASE_MIN_CHARS` or more characters. Shorter keywords are match
tokens (国补, 卡码怎么拍, 几号链接): they exist to occur inside comments, so a short comment that is only
that token says nothing about copying; product names and aliases are names (viewers type ``ace5pro`` bare).

The rooms file is read from ``../shared/data/real`` beside the repository (CI has it) or from
``$LIVECS_SHARED/data/real`` (:data:`livecs.triage.real_data.ROOMS_FILE`); without it the test skips, saying
where it looked.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from livecs.paths import SHARED_ENV
from livecs.scripts.library import Library
from livecs.scripts.validate import load_files
from livecs.triage.real_data import ROOMS_FILE
from livecs.triage.rooms import read_rooms

REAL_ROOM_LIBRARIES = Path(__file__).resolve().parents[2] / "scripts_library" / "real_rooms"
#: keywords this long (normalised) are phrases, held to the rule like examples
PHRASE_MIN_CHARS = 6


def normalise(text: str) -> str:
    """The comparison form: NFKC, lower case, without whitespace, punctuation or symbols."""
    return "".join(
        ch
        for ch in unicodedata.normalize("NFKC", text).lower()
        if not ch.isspace() and unicodedata.category(ch)[0] not in "PSZ"
    )


def library_lines(library: Library) -> Iterator[tuple[str, str]]:
    """``(where, text)`` for every line held to the rule."""
    for script in library.scripts:
        for example in script.examples:
            yield f"{script.id} example", example
        yield f"{script.id} reply", script.reply
        if script.on_air:
            yield f"{script.id} on_air", script.on_air
        for keyword in script.keywords:
            if len(normalise(keyword)) >= PHRASE_MIN_CHARS:
                yield f"{script.id} keyword", keyword


@pytest.fixture(scope="module")
def real_comments() -> frozenset[str]:
    if not ROOMS_FILE.exists():
        pytest.skip(
            f"real rooms not found at {ROOMS_FILE}: put ../shared beside the repository or set "
            f"{SHARED_ENV} (CI has ../shared, so this runs there)"
        )
    return frozenset(n for row in read_rooms(ROOMS_FILE) if (n := normalise(row.text)))


def test_normalise_ignores_spaces_punctuation_and_width() -> None:
    assert normalise(" 有ＮＦＣ吗？！ ") == normalise("有nfc吗") == "有nfc吗"
    assert normalise("13T 和 13，有什么区别~") == "13t和13有什么区别"


@pytest.mark.parametrize("directory", sorted(p.name for p in REAL_ROOM_LIBRARIES.iterdir() if p.is_dir()))
def test_no_library_line_is_a_real_comment(directory: str, real_comments: frozenset[str]) -> None:
    result = load_files(sorted((REAL_ROOM_LIBRARIES / directory).glob("*.yaml")))
    assert result.library is not None, result.issues
    lines = list(library_lines(result.library))
    assert len(lines) > 100  # the rule is applied to the whole library, not to an empty one
    # the message names where, never the text (it is a real comment)
    copied = [where for where, text in lines if normalise(text) in real_comments]
    assert not copied, f"{directory}: {len(copied)} lines equal a real comment — reword them: {copied}"
