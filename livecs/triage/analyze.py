"""The text-only half of triage (cacheable by normalised text): normalise, scan lexicons, score the learned
heads, apply the decisive rules (spam cues, hostility toward the shop), and return a :class:`TextAnalysis`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from livecs.models import Emotion, Intent, Sentiment
from livecs.triage.cluster import cluster_key
from livecs.triage.features import text_features
from livecs.triage.lexicon import Lexicon, LexiconHits
from livecs.triage.model import EMOTION_LABELS, INTENT_LABELS, SENTIMENT_LABELS, LinearModel, argmax, softmax
from livecs.triage.normalize import NormalizedText, Normalizer
from livecs.triage.settings import IntentSettings, TriageSettings
from livecs.triage.shop import shop_voice
from livecs.triage.spam import SpamRules

_INTENT_INDEX = {label: i for i, label in enumerate(INTENT_LABELS)}
_INTENTS = {label: Intent(label) for label in INTENT_LABELS}  # Enum(value) calls are slow on the hot path
_SENTIMENTS = {label: Sentiment(label) for label in SENTIMENT_LABELS}
_EMOTIONS = {label: Emotion(label) for label in ("", *EMOTION_LABELS)}
_EMPTY_OR_TAGS_RE = re.compile(r"(?:\[[^\]]{1,6}\]|\s)*")
_PUNCT_ONLY_RE = re.compile(r"[\W_]+")
_QUESTION_MARKS_ONLY_RE = re.compile(r"[?\s.。!]*\?[?\s.。!]*")
_SPAM_SHAPE_RE = re.compile(r"[a-z0-9@#$%^&*_+=|<>/:：]")  # handles, numbers, key-mash: what spam looks like
_NEGATIVE_AFFECT = "neg"
_COMPLAINT = _INTENT_INDEX["complaint"]
_SPAM = _INTENT_INDEX["spam"]
_CHITCHAT = _INTENT_INDEX["chitchat"]
_PRODUCT = _INTENT_INDEX["product"]
# One name of 2–5 Chinese characters typed two times or more, with nothing else but separators.
_REPEATED_NAME_RE = re.compile(r"([\u4e00-\u9fff]{2,5})(?:[\s!！~。，,、]*\1)+[\s!！~。，,、]*")
_POSITIVE = SENTIMENT_LABELS.index("pos")


# Gift notices some platforms write into the chat as text ("某某支持了2个打call", Bilibili).
_GIFT_NOTICE_RE = re.compile(r"支持了\d{1,4}个\S{1,10}$|投喂了?\d{1,4}个\S{1,10}$")
_GRIEVANCE_RE = re.compile(
    r"不理|不回|没人理|没人回|无视|回复太慢|半天才回|只回|还没|还不|怎么还|一直没|到现在|等了|好几天|多少天|几天了|"
    r"坏了|破了|碎了|烂了|漏|少了|发错|不对|质量|假的|骗|坑|退款|退钱|差评|投诉|举报|垃圾|恶心|离谱|过分|凭什么|"
    # broken promises, runarounds, being silenced (from our hand-written complaint lines)
    r"说好的|说好给|承诺|等于白|等于没|白说|没影|没下文|稍后|推给|推脱|打发|不耐烦|打不通|没人接|没人管|没人跟进|"
    r"屏蔽|把我屏|被吞|删我|谁在说谎|虚标|涂改|瑕疵|划伤|毛刺|焦味|异味|发霉|过期|变质|还让我|凭啥|不退|不给退|"
    r"不来了|怕了|心都凉|寒心|失望|忽悠|套路|托吧|有托|当我|当傻|笑死人|这也叫|这叫|就这服务|这服务|做生意"
)


# Left waiting, one pattern searched once per text (both are complaint, disappointed, whatever else is said):
# - asking for a reply, or saying a question went unanswered (TAXONOMY: asking again after being ignored,
#   求回复): 回复一下, 能回复吗, 回答我, 回一句行吗, 问了3遍了 — but not a reply as the condition of buying
#   (回复我就下单);
# - being ignored or silenced (TAXONOMY: "主播怎么不理人"): 都没回复, 看不到我发的吗, 你看不见吗, 不看公屏,
#   我的留言被屏蔽了;
# - slowness of the service stated as a grievance (快递太慢了, 发货慢, 25天才发 太慢了): every real-room
#   annotator labelled it so; a delay asked about (多久发货, 快递慢吗) stays logistics.
_WAITING_GRIEVANCE_RE = re.compile(
    r"回复一?下(?![面方边就])|回一下(?!就)|能不?能?回复|可以回复|回答一?下(?!就)|有没?有?回复[吗么]|回复我(?!就)|"
    r"回答我(?!就)|回一句|回我一下|回下我|回个话|理下我|不看公屏|不看评论|看不[到见]吗[?？]*$|"
    r"问(?:了|过)?(?:你们|你)?(?:都)?[0-9二两三四五六七八九十几好多很]+[遍次]|刚才?问(?:了|过)了?$|"
    r"(?<!我)(?<!我还)(?<!我都)没回复|(?<!我)都没回|没回我|(?<!我)[看瞧]不[到见]我|(?<!我)没看[到见]我|被屏蔽|把我.{0,6}屏蔽|"
    r"(?:发货|快递|物流|配送|送货|到货|发的|速度|回复|回消息|处理|退款)[^?？吗么]{0,4}?"
    r"(?:太|好|真|这么|那么|超|巨|特别|实在|也太)慢(?![吗么不?？])|"
    r"(?:发货|快递|物流|配送|送货|到货)慢(?![吗么不?？点些])|慢死了|慢得要命"
)
# A word asked about in a real question — …是假的吗, 是不是智商税, 还是二手的呢 — not in a rhetorical
# one (是假的吧) nor said (你这个是假的): a question mark follows it in its clause, or a frame precedes it.
_ASKED_AFTER_RE = re.compile(r"^[^,，。;；!！吧]{0,8}?(?:吗|么|呢|[?？])")
_ASKED_BEFORE_RE = re.compile(r"是不是|是否|还是|到底是")
_CLAUSE_RE = re.compile(r"[,，。;；!！?？]")


def _asked_about(text: str, term: str) -> bool:
    at = text.rfind(term)
    if at < 0:
        return False
    before = _CLAUSE_RE.split(text[:at])[-1]
    return (
        _ASKED_AFTER_RE.search(text[at + len(term) :]) is not None
        or _ASKED_BEFORE_RE.search(before) is not None
    )


# Goods whose name holds a grievance or abuse word — 垃圾袋 is a bin bag, not "rubbish"; 乡巴佬 before a snack
# (乡巴佬卤蛋) is a brand, not a slur: left out of the cue scan.
_GOODS_NAMED_LIKE_ABUSE_RE = re.compile(
    r"垃圾(?:袋|桶|篓|箱|筐|分类|处理器|夹|铲|车)|乡巴佬(?=卤|鸡|鸭|肉|豆|蛋|零食|小吃|辣条|牛|猪|鱼|花生|瓜子)"
)


def _grievance_evidence(text: str, hits: LexiconHits) -> bool:
    """Something in the text itself that an operator would call a grievance."""
    if hits.complaint_terms or hits.neg > hits.pos or hits.spam.get("insults") or hits.attack_on_shop:
        return True
    if hits.emotions.get("angry") or hits.emotions.get("disappointed"):
        return True
    return _GRIEVANCE_RE.search(text) is not None


@dataclass(slots=True)  # treat as immutable (shared through the cache); not frozen: cheaper to build
class TextAnalysis:
    normalized: str
    folded: str
    intent: Intent
    intent_confidence: float
    sentiment: Sentiment
    sentiment_score: float
    emotion: Emotion
    spam_reason: str
    threat: bool
    stock_urgency: bool
    cluster_key: str  # comparable core of the text for repeated-question clusters
    shop_voice: str  # "reply" / "notice" in the shop's voice, else "" (shop.shop_voice)
    gift_notice: bool  # a platform's gift notice written into the chat: never a flood
    spam_cue: bool  # a spam lexicon word (lure, ad, insult…), even one too weak to call spam alone


class TextAnalyzer:
    """Pure function of the text (plus merchant keywords/examples); safe to cache by normalised text."""

    def __init__(
        self,
        normalizer: Normalizer,
        lexicon: Lexicon,
        model: LinearModel,
        spam_rules: SpamRules,
        settings: IntentSettings,
    ) -> None:
        self.normalizer = normalizer
        self.lexicon = lexicon
        self.model = model
        self.spam_rules = spam_rules
        self.merchant_keyword_boost = settings.merchant_keyword_boost
        self.merchant_example_similarity = settings.merchant_example_similarity
        self.min_confidence = settings.min_confidence
        self.model_spam_min_confidence = settings.model_spam_min_confidence
        self.negative_odds = settings.negative_odds
        self.positive_odds = settings.positive_odds
        self.complaint_needs_evidence = settings.complaint_needs_evidence
        self.complaint_sure_without_evidence = settings.complaint_sure_without_evidence
        self.repeated_name_chitchat_below = settings.repeated_name_chitchat_below
        self.merchant_examples: dict[str, str] = {}  # normalised example -> intent

    def add_examples(self, intent: str, examples: list[str]) -> int:
        added = 0
        for example in examples:
            text = self.normalizer.normalize(str(example)).text
            if text and self.merchant_examples.get(text) != intent:
                self.merchant_examples[text] = intent
                added += 1
        return added

    def analyze_normalized(self, norm: NormalizedText) -> TextAnalysis:
        text = norm.text
        cue_text = _GOODS_NAMED_LIKE_ABUSE_RE.sub("", text) if "垃圾" in text or "乡巴佬" in text else text
        waiting_grievance = _WAITING_GRIEVANCE_RE.search(text) is not None
        hits = self.lexicon.scan(cue_text)
        if hits.complaint_terms and all(
            term in self.lexicon.doubts and _asked_about(cue_text, term) for term in hits.complaint_terms
        ):
            hits.complaint_terms = []  # 是假的吗, 是不是智商税: asks whether the goods are genuine
        spam_reason = self.spam_rules.reason(norm, hits)
        summed = self.model.feature_sum(text_features(text, hits))
        logits = self.model.intent_logits(summed)
        if hits.merchant:
            for intent, count in hits.merchant.items():
                if intent in _INTENT_INDEX:
                    logits[_INTENT_INDEX[intent]] += self.merchant_keyword_boost * count
        probs = softmax(logits)
        intent_index = argmax(probs)
        confidence = float(probs[intent_index])
        if INTENT_LABELS[intent_index] == "spam" and not spam_reason:
            looks_like_spam = bool(hits.spam) or _SPAM_SHAPE_RE.search(norm.folded) is not None
            if confidence >= self.model_spam_min_confidence and looks_like_spam:
                spam_reason = "model"
            else:  # the model alone decides spam only when sure and some spam cue or shape is present
                # (a lexicon cue, latin letters, digits, symbols); otherwise its next-best intent
                probs[intent_index] = 0.0
                intent_index = argmax(probs)
                confidence = float(probs[intent_index])
        intent_index, confidence = self._rules(
            norm, hits, spam_reason, waiting_grievance, intent_index, confidence
        )
        sentiment_probs, emotion_probs = self.model.affect(summed, intent_index)
        if (
            intent_index == _COMPLAINT
            and confidence < 1.0
            and not hits.complaint_terms
            and not hits.spam.get("insults")
            and not hits.attack_on_shop
            and argmax(sentiment_probs) == _POSITIVE
        ):
            # The model's own guess of a grievance contradicted by a positive feeling (long praise with one
            # gripe, "客服态度也非常友好"): take the next-best intent instead of forcing a negative complaint.
            probs[_COMPLAINT] = 0.0
            if not spam_reason:
                probs[_SPAM] = 0.0  # spam is never a fallback: it is decided by a rule or a sure model above
            intent_index = argmax(probs)
            confidence = float(probs[intent_index])
            sentiment_probs, emotion_probs = self.model.affect(summed, intent_index)
        if (
            intent_index == _COMPLAINT
            and confidence < self.complaint_sure_without_evidence
            and self.complaint_needs_evidence
            and not _grievance_evidence(cue_text, hits)
        ):
            # An alarm needs evidence — a grievance or hostility word, a negative feeling word, being
            # ignored, waiting, a defect — or a model that is sure: a hesitant guess alone (stories,
            # testimonials, banter) is not one.
            probs[_COMPLAINT] = 0.0
            if not spam_reason:
                probs[_SPAM] = 0.0
            intent_index = argmax(probs)
            confidence = float(probs[intent_index])
            sentiment_probs, emotion_probs = self.model.affect(summed, intent_index)
        intent = INTENT_LABELS[intent_index]
        p_pos, p_neg = float(sentiment_probs[0]), float(sentiment_probs[2])
        weighted = [p_pos * self.positive_odds, float(sentiment_probs[1]), p_neg * self.negative_odds]
        sentiment = SENTIMENT_LABELS[argmax(weighted)]
        emotion = EMOTION_LABELS[argmax(emotion_probs)]
        sentiment, emotion = self._affect_rules(
            norm, intent, spam_reason, sentiment, emotion, waiting_grievance
        )
        score = 0.5 + 0.5 * (p_pos - p_neg)
        if sentiment == _NEGATIVE_AFFECT:
            score = min(score, 0.45)
        elif sentiment == "pos":
            score = max(score, 0.55)
        return TextAnalysis(
            normalized=text,
            folded=norm.folded,
            intent=_INTENTS[intent],
            intent_confidence=round(confidence, 4),
            sentiment=_SENTIMENTS[sentiment],
            sentiment_score=round(score, 4),
            emotion=_EMOTIONS[emotion if sentiment == _NEGATIVE_AFFECT else ""],
            spam_reason=spam_reason if intent == "spam" else "",
            threat=bool(hits.complaint_terms),
            stock_urgency=hits.stock_urgency,
            cluster_key=cluster_key(text),
            shop_voice=shop_voice(norm.folded, bool(hits.complaint_terms)),
            gift_notice=_GIFT_NOTICE_RE.search(text) is not None,
            spam_cue=bool(hits.spam),
        )

    def _rules(
        self,
        norm: NormalizedText,
        hits: LexiconHits,
        spam_reason: str,
        waiting_grievance: bool,
        intent_index: int,
        confidence: float,
    ) -> tuple[int, float]:
        text = norm.text
        if spam_reason:
            return _INTENT_INDEX["spam"], 1.0
        if self.merchant_examples:
            exact = self.merchant_examples.get(text)
            if exact is None:
                best = process.extractOne(
                    text, self.merchant_examples.keys(), scorer=fuzz.ratio,
                    score_cutoff=self.merchant_example_similarity,
                )  # fmt: skip
                exact = self.merchant_examples[best[0]] if best is not None else None
            if exact in _INTENT_INDEX:
                return _INTENT_INDEX[exact], 1.0
        if hits.complaint_terms:
            return _INTENT_INDEX["complaint"], max(confidence, 0.9)
        if waiting_grievance:
            return _INTENT_INDEX["complaint"], 1.0  # left waiting: a grievance whatever the words around it
        if hits.spam.get("insults") and hits.shop_target:
            return _INTENT_INDEX["complaint"], max(confidence, 0.8)
        if hits.attack_on_shop:
            # disparaging the streamer to their face (你可真烦人, 主播说话太难听): hostility, a complaint
            return _INTENT_INDEX["complaint"], max(confidence, 0.8)
        if _EMPTY_OR_TAGS_RE.fullmatch(text) or _PUNCT_ONLY_RE.fullmatch(text):
            return _CHITCHAT, 1.0
        if confidence < self.min_confidence:
            return _CHITCHAT, confidence
        if (
            intent_index == _CHITCHAT
            and confidence < self.repeated_name_chitchat_below
            and _REPEATED_NAME_RE.fullmatch(text)
        ):
            # TAXONOMY (real rooms): a bare name typed into chat asks to show it (小棕瓶!!小棕瓶!!).
            # Typed over and over it is a name or a cheer; cheers and fans' names the model knows well
            # (cheers such as 支持支持 or 加油加油), so a name it is unsure of is the goods.
            return _PRODUCT, confidence
        return intent_index, confidence

    @staticmethod
    def _affect_rules(
        norm: NormalizedText,
        intent: str,
        spam_reason: str,
        sentiment: str,
        emotion: str,
        waiting_grievance: bool = False,
    ) -> tuple[str, str]:
        if intent == "complaint":
            if waiting_grievance and emotion != "angry":
                return _NEGATIVE_AFFECT, "disappointed"
            return _NEGATIVE_AFFECT, emotion if emotion in ("angry", "disappointed") else "angry"
        if intent == "spam":
            if spam_reason == "insult" or (spam_reason == "model" and sentiment == _NEGATIVE_AFFECT):
                return _NEGATIVE_AFFECT, "angry"  # abuse (by rule, or felt negative by the model)
            return "neu", ""
        if _QUESTION_MARKS_ONLY_RE.fullmatch(norm.text):
            return _NEGATIVE_AFFECT, "confused"
        return sentiment, emotion


def load_analyzer_parts(
    lexicon_data: dict[str, Any], config: TriageSettings
) -> tuple[Normalizer, Lexicon, SpamRules]:
    """The model-independent parts (shared by the engine and the trainer)."""
    normalizer = Normalizer(lexicon_data, config.normalise)
    lexicon = Lexicon(lexicon_data)
    spam_rules = SpamRules.from_config(config.spam, lexicon_data)
    return normalizer, lexicon, spam_rules
