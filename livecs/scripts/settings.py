"""The ``scripts`` section of the settings tree (``Settings.scripts``): where the merchant's library lives and
the tunables of the library, matcher, lint and coupon engine.

``config/livecs.yaml`` → ``scripts`` holds the runtime keys (library database, shop, bootstrap files…);
the tunables (limits, lint, matcher, replies, coupons…) are in ``config/scripts.yaml``, which that section
includes. Every key is optional (a missing key keeps the default named here). Load it with
:func:`livecs.config.load_settings` (``.scripts``); override a key with ``LIVECS_SCRIPTS__<SECTION>__<KEY>``.
Code handed no settings uses ``ScriptsSettings()``, the defaults (the shipped files mirror them).
"""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from livecs.paths import CONFIG_DIR, PATH_FIELD, ROOT

Severity = Literal["error", "warning", "off"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UploadLimits(_Section):
    """Bounds on one uploaded library file (YAML, CSV or XLSX) and on the library it makes."""

    max_file_bytes: int = 5_000_000
    max_xlsx_uncompressed_bytes: int = 50_000_000
    max_rows_per_section: int = 5000
    #: rows read from one CSV file or sheet, blank rows included (reading stops at the first one over)
    max_sheet_rows: int = 20_000
    #: cells in one row of a CSV file or sheet
    max_columns: int = 64
    #: cells read from one CSV or XLSX file (all sheets)
    max_cells: int = 300_000
    #: XML elements in one .xlsx (every part: sheets, shared strings, styles…), counted before it is opened
    max_xlsx_elements: int = 1_000_000
    #: YAML nodes in one file (scalars, lists, mappings), counted before it is built
    max_yaml_nodes: int = 150_000
    max_scripts: int = 3000
    max_products: int = 2000
    max_coupons: int = 500
    max_keywords_per_script: int = 60
    max_examples_per_script: int = 60
    max_keyword_chars: int = 30
    max_reply_chars: int = 500
    max_cell_chars: int = 2000
    max_errors_reported: int = 500


class LintSettings(_Section):
    severity: dict[str, Severity] = Field(
        default_factory=lambda: {  # type: ignore[arg-type]
            "ad_law": "warning",
            "unknown_variable": "error",
            "shared_trigger": "warning",
            "unreachable": "warning",
            "intent_coverage": "warning",
            "on_air_empty": "warning",
            "on_air_too_long": "warning",
            "question_form_keyword": "warning",
            "excluded_keyword": "warning",
        }
    )
    on_air_max_chars: int = 30
    ad_law_terms_file: str = Field(
        str(CONFIG_DIR / "ad_law_terms.yaml"),
        description="advertising-law term list",
        json_schema_extra=PATH_FIELD,
    )

    def severity_of(self, rule: str) -> Severity:
        return self.severity.get(rule, "warning")


class MatcherSettings(_Section):
    weight_keyword: float = 0.55
    weight_fuzzy: float = 0.30
    weight_bigram: float = 0.15
    bonus_product_scope: float = 0.10
    bonus_sentiment_fit: float = 0.08
    penalty_sentiment_mismatch: float = 0.10
    off_intent_factor: float = 0.55
    fuzzy_shortlist: int = 4
    common_bigram_share: float = 0.05
    min_score: float = 0.12
    fallback_score: float = 0.10
    fallback_damping: float = 0.75
    cache_size: int = 20000
    nickname_max_chars: int = 12
    nickname_fallback: str = (
        "亲"  # how a reply addresses a viewer whose nickname is empty or unsafe to repeat
    )
    missing_variable: str = "【{name}】"


class NegativeReplySettings(_Section):
    """Empathy by emotion, composed into one sentence with the answer for a negative comment."""

    empathy: dict[str, str] = Field(
        default_factory=lambda: {
            "angry": "给您添堵了，真的非常抱歉",
            "anxious": "理解您着急的心情",
            "confused": "这个确实容易让人犯迷糊",
            "disappointed": "让您失望了，很抱歉",
            "none": "理解您的感受",
        }
    )


class VoiceSettings(_Section):
    """One voice per shop: how a reply addresses the viewer (a library's ``library.tone`` wins)."""

    #: ``casual``: 宝宝/亲 and 你; ``formal``: 您 throughout
    tone: Literal["casual", "formal"] = "casual"
    #: what an address variant such as ``{宝宝/亲}`` becomes in the formal register
    formal_address: str = "您好"
    #: address words rewritten in the formal register (the variants ``{宝宝/亲/姐妹}``, a leading ``宝宝，``)
    address_words: list[str] = Field(
        default_factory=lambda: ["宝宝", "亲", "姐妹", "姐妹们", "家人们", "宝子", "宝子们", "集美", "亲们"]
    )
    #: emotions whose negative comments get the empathy framing (confusion is answered plainly)
    framed_emotions: list[str] = Field(default_factory=lambda: ["angry", "anxious", "disappointed"])
    #: intents whose negative comments are framed even without a recognised emotion
    framed_intents: list[str] = Field(default_factory=lambda: ["complaint", "after_sales"])


class AnswerSettings(_Section):
    """When the catalogue or the library cannot answer: say so instead of inventing an answer."""

    #: below this score the best non-fallback script does not answer: the card says 无匹配话术
    min_answer_score: float = 0.2
    #: A script answers on its topic: one of its keywords found in the comment (a question form alone is
    #: none), an example nearly repeated (likeness ≥ ``near_example``), or two bigrams shared with an
    #: example once question forms are taken out of both. Likeness in form only no longer answers:
    #: 头一批卖完了吗 is like 贴膜了吗 in 了吗, not in what it asks — the card says 无匹配话术 and offers it.
    near_example: float = Field(0.75, ge=0.0, le=1.0)
    #: closest scripts offered on a 无匹配话术 card
    closest: int = 3
    no_match: str = "无匹配话术"
    colour_gap: str = "{address}，{link}号{name}没有{value}哦，现有{options}{others}"
    size_gap: str = "{address}，{link}号{name}没有{value}哦，现有{options}码{others}"
    product_gap: str = "{address}，这场没有{value}哦，现在讲的是{link}号{name}，{price}元"
    product_choice: str = "{address}，{value}有{options}，想看哪款报链接号"
    others: str = "，{value}的有{links}"
    #: Words that only frame a question or address the room (有吗, 能…吗, 什么, 多少, 主播, 宝宝…):
    #: they say *that* something is asked, not *what*. A keyword is worth only what is left of it once
    #: these are taken out (its topic): 有吗 or 还有没有 alone is no evidence for any script, 什么码
    #: counts as 码. A form of two or more characters is taken out anywhere; a one-character form only at
    #: the start of the keyword (有, 能, 几…), or at its end when it is a sentence-final particle (吗,
    #: 呢…), so 性能 and 功能 keep their 能.
    question_forms: list[str] = Field(
        default_factory=lambda: (
            "有没有 有木有 有没 还有 还 有 吗 嘛 么 呢 吧 呀 啊 哦 啦 "
            "能不能 可不可以 可以 能 行不行 会不会 是不是 要不要 好不好 "
            "怎么样 怎样 怎么 咋样 咋 如何 什么时候 啥时候 什么 啥 多少 哪个 哪里 哪 几 "
            "请问 问一下 问下 想问 主播 宝宝 宝子 姐妹们 姐妹 家人们 亲们 老板"
        ).split()
    )
    #: A keyword right after one of these and followed by more than a particle is negated in a
    #: statement (我不打游戏，平时拍拍照行吗): no evidence for its script. A tag question (不掉色吧) or an
    #: A-not-A question (会不会上) still asks about it. One character each.
    negations: list[str] = Field(default_factory=lambda: ["不", "没", "别"])
    #: A keyword of three characters or more still counts with up to this many characters said inside it
    #: (什么时候到 in 什么时候才能到), none of them a negation; 0 turns it off.
    keyword_gap: int = Field(2, ge=0, le=4)
    #: The only characters that may be said inside a keyword (modal verbs, adverbs, pronouns, measure
    #: words): 几天发货 in 几天才能发货, never 充电多少 in 充电宝是多少 or 能发货 in 能不发货. A keyword
    #: whose topic is only these characters (怎么是) is never gapped.
    keyword_gap_fillers: str = "能才会要可以都还就再也又得的了一点些下大概我你这那个们是给先"
    #: Forms asking for a cause or a remedy (怎么办, 为什么…): "这场没有…" (a product the shop does not
    #: sell) is no answer to them — 口红为什么会沾杯 in a clothes shop gets 无匹配话术, not
    #: "这场没有口红".
    cause_forms: list[str] = Field(
        default_factory=lambda: (
            "怎么办 咋办 为什么 为啥 什么原因 啥原因 怎么回事 咋回事 怎么解决 咋解决".split()
        )
    )
    #: Words telling of a fault in goods the viewer already has — a mark (黑点, 划痕) or a fault that has
    #: happened (起球了, 不长了; 起球吗 asks before buying and is not one): with them the question is
    #: after-sales, and a product script (a spec, a size, a material: what is said before buying) does
    #: not answer it — the card says 无匹配话术 and offers it among the closest scripts.
    defect_words: list[str] = Field(
        default_factory=lambda: (
            "黑点 白点 斑点 划痕 刮花 裂痕 裂缝 破洞 "
            "裂了 碎了 坏了 摔了 进水了 不亮了 黑屏了 闪屏了 花屏了 死机了 卡死了 发烫了 烫手 "
            "充不进 充不上电 不充电了 掉电快 耗电快 不耐用 不长了 不行了 "
            "起球了 掉色了 褪色了 开线了 脱线了 缩水了 变形了 掉毛了 勾丝了"
        ).split()
    )
    #: product words that name a kind of product (a word no product carries gets "这场没有…")
    product_words: list[str] = Field(
        default_factory=lambda: (
            "卫衣 羽绒服 棉服 夹克 西装 西裤 马甲 背心 短袖 短裤 裙子 裤子 外套 衬衫 毛衣 T恤 "
            "连衣裙 半身裙 牛仔裤 风衣 大衣 开衫 针织衫 打底衫 睡衣 内衣 袜子 鞋 包包 "
            "帽子 围巾 皮衣 睡衣 项链 唇膏 沐浴露 洗发水 面膜 口红 粉底 眼霜 防晒霜 "
            "精华 面霜 洗面奶 "
            "九分裤 七分裤 阔腿裤 烟管裤 喇叭裤 运动裤 打底裤 背带裤 休闲裤 哈伦裤 长裤 长裙 短裙 "
            "套裙 吊带裙 包臀裙 旗袍 汉服 睡裙 冲锋衣 棉衣 polo衫 雪纺衫 丝袜 凉鞋 拖鞋 运动鞋 小白鞋 "
            "高跟鞋 靴子 帆布鞋 墨镜 耳环 戒指 手链 丝巾 "
            "粉饼 散粉 腮红 眉笔 眼线笔 睫毛膏 卸妆油 卸妆水 爽肤水 乳液 身体乳 护手霜 香水 发膜 护发素 "
            "牙膏 唇釉 气垫 遮瑕"
        ).split()
    )


class SizeAdviceSettings(_Section):
    fit: str = "{height}{weight}建议拍{size}码"
    between: str = "{height}{weight}建议拍{size}码，喜欢宽松拍{bigger}码"
    above_chart: str = "{height}{weight}超出这款尺码表了，建议拍最大的{size}码或私信客服确认"
    below_chart: str = "{height}{weight}建议拍最小的{size}码"
    ask: str = "报一下身高体重，帮您推荐尺码哦"
    no_chart: str = "这款是{sizes}，尺码问题可以私信客服"
    no_product: str = "报一下身高体重和想看的链接号，帮您推荐尺码"


class CouponSettings(_Section):
    key_ttl_s: int = Field(
        7 * 24 * 3600, ge=1, description="Redis coupon counters expire after the last issue"
    )
    timezone_offset_hours: float = Field(
        8, ge=-12, le=14, description="the shop's UTC offset: naive coupon dates in a library are read in it"
    )

    @property
    def shop_timezone(self) -> timezone:
        """The shop's fixed-offset time zone (UTC+8 for shops in China)."""
        return timezone(timedelta(hours=self.timezone_offset_hours))


class FallbackTriageSettings(_Section):
    """Cues of the keyword triage ``scripts evaluate`` falls back to when the triage engine cannot start."""

    negative_cues: list[str] = Field(
        default_factory=lambda: (
            "投诉 骗子 差评 垃圾 退钱 太差 坑 气死 生气 失望 慢死 急死 怎么还 还不 烂 假货 "
            "破了 坏了 起球 掉色 不理人 没人理 太贵 贵了 用不了 失败 扣了两次 几天了 没动 过分 恶心"
        ).split()
    )
    emotion_cues: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "angry": ["骗子", "投诉", "差评", "垃圾", "气死", "12315", "举报", "恶心", "过分"],
            "anxious": ["急", "快点", "几天了", "还没", "赶紧", "等着"],
            "confused": ["怎么", "用不了", "失败", "不会", "看不懂", "为什么"],
            "disappointed": ["失望", "太差", "不理人", "没人理", "贵了", "太贵", "烂"],
        }
    )


class ScriptsSettings(_Section):
    # runtime (config/livecs.yaml → scripts)
    library_db: str = Field(
        str(ROOT / "data" / "library_versions.db"),
        description="merchant library versions (SQLite)",
        json_schema_extra=PATH_FIELD,
    )
    shop: str = Field("default", description="which shop's versions this process serves")
    bootstrap: list[str] = Field(
        default_factory=lambda: [
            str(ROOT / "scripts_library" / "apparel" / name)
            for name in ("library.yaml", "catalogue.yaml", "coupons.yaml")
        ],
        description="files uploaded and activated when the registry has no active version yet",
        json_schema_extra=PATH_FIELD,
    )
    on_air_link: int | None = Field(1, description="product on air at start (link number); null = none")
    suggestions_per_comment: int = Field(3, ge=0, le=10, description="ranked suggestions kept per comment")
    suggest_priorities: list[str] = Field(
        default_factory=lambda: ["P0", "P1", "P2"], description="priorities that get suggested replies"
    )
    learn_library_vocabulary: bool = Field(
        True, description="feed the active library's keywords and examples to the triage engine"
    )
    # tunables (config/scripts.yaml)
    limits: UploadLimits = Field(default_factory=UploadLimits)
    lint: LintSettings = Field(default_factory=LintSettings)
    matcher: MatcherSettings = Field(default_factory=MatcherSettings)
    negative_reply: NegativeReplySettings = Field(default_factory=NegativeReplySettings)
    size_advice: SizeAdviceSettings = Field(default_factory=SizeAdviceSettings)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    coupons: CouponSettings = Field(default_factory=CouponSettings)
    fallback_triage: FallbackTriageSettings = Field(default_factory=FallbackTriageSettings)
