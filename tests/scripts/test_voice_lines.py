"""Issue 12, re-checked on the real-room libraries: the streamer's line stays ≤ 30 characters when it is
filled from a long spec list, and texts the reply is filled with (size advice, the library's variables)
speak in the shop's register — no 您 inside a 宝宝/亲 reply. Invented texts only."""

from __future__ import annotations

import random

from livecs.models import Intent, Sentiment, Suggestion
from livecs.scripts.matcher import ON_AIR_MAX_CHARS, ScriptMatcher, clip_line
from livecs.scripts.settings import ScriptsSettings
from livecs.scripts.validate import load_bytes

from .conftest import NOW, make_comment, make_triage

LIBRARY = """
library: {name: 测试数码, category: digital, version: "1", tone: %(tone)s}
variables:
  service: 右下角客服会帮您查
scripts:
  - id: camera
    intents: [product]
    keywords: [摄像头, 像素]
    examples: ["像素多少"]
    reply: "{宝宝/亲}，{link}号{name}影像：{specs}"
    on_air: "{link}号{specs}"
  - id: size
    intents: [product]
    keywords: [尺码, 什么码]
    examples: ["穿什么码"]
    reply: "{宝宝/亲}，{size_advice}"
    on_air: "报身高体重推荐尺码"
  - id: order
    intents: [order]
    keywords: [订单]
    examples: ["订单查不到"]
    reply: "{宝宝/亲}，{service}"
    on_air: "订单问题找客服"
products:
  - {sku: P-1, link: 1, name: 测试手机, price: 1999, stock: 10, aliases: [手机],
     specs: {后置: 5000万主摄加5000万长焦, 前置: 1600万像素, 视频: 4K60帧录制, 防抖: 光学防抖}}
"""


def _matcher(tone: str) -> ScriptMatcher:
    result = load_bytes([("lib.yaml", (LIBRARY % {"tone": tone}).encode("utf-8"))])
    assert result.library is not None, result.issues
    config = ScriptsSettings().model_copy(deep=True)
    config.size_advice.no_chart = "这款是{sizes}，尺码问题您可以私信客服"  # a merchant's own wording, with 您
    return ScriptMatcher(result.library, config, rng=random.Random(1))


def _best(m: ScriptMatcher, text: str, intent: Intent = Intent.PRODUCT) -> Suggestion:
    out = m.match(make_comment(text), make_triage(text, intent, Sentiment.NEU), on_air=1, now=NOW)
    assert out and out[0].script_id, text
    return out[0]


def test_clip_line_cuts_after_a_whole_clause() -> None:
    assert clip_line("短句") == "短句"
    line = "1号后置5000万主摄加5000万长焦，前置1600万像素，视频4K60帧录制"
    assert len(line) > ON_AIR_MAX_CHARS
    assert clip_line(line) == "1号后置5000万主摄加5000万长焦，前置1600万像素"
    assert clip_line("一" * 40) == "一" * ON_AIR_MAX_CHARS  # no clause end: cut at the limit


def test_streamer_line_filled_from_specs_stays_short() -> None:
    best = _best(_matcher("casual"), "摄像头像素怎么样")
    assert best.script_id == "camera"
    assert len(best.on_air) <= ON_AIR_MAX_CHARS and best.on_air.startswith("1号")
    assert "5000万" in best.reply and "光学防抖" in best.reply  # the reply keeps every spec


def test_size_advice_and_library_variables_speak_in_the_shop_register() -> None:
    casual = _matcher("casual")
    size = _best(casual, "穿什么码")
    assert "您" not in size.reply and "你可以私信" in size.reply
    order = _best(casual, "订单查不到", Intent.ORDER)
    assert "您" not in order.reply and "帮你查" in order.reply
    formal = _matcher("formal")
    assert "您可以私信" in _best(formal, "穿什么码").reply
    assert "帮您查" in _best(formal, "订单查不到", Intent.ORDER).reply
