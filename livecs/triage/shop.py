"""The shop's own voice in its room: configured accounts, replies that @-mention a viewer in the shop's voice,
and accounts that keep posting such replies.

Shop accounts post into the chat like viewers ("@小***宝宝,可以咨询人工客服哦~", "新款上架,福利限时领!").
Their comments are recorded but never triaged as a viewer's: no alarm, no cluster, no flood.
"""

from __future__ import annotations

import re
from collections import OrderedDict

from livecs.triage.settings import ShopSettings

# "@<name>" then the shop's service phrasing; the name may be masked by the platform (阿***).
_MENTION_RE = re.compile(r"^\s*[@＠]")
_SHOP_VOICE_RE = re.compile(
    r"人工客服|联系客服|咨询客服|可以咨询|可以联系|详情咨询|咨询主播|正在给你讲解|正在为你讲解|给您|为您|您好|感谢支持|"
    r"感谢关注|下单即可|拍下即可|热卖中|好礼限时|以商品详情|详情页|为准|已为你|已帮你|稍等哦|安排发货哦|放心拍|可以拍的哦"
)
# The shop's notices without a mention ("产品问题请联系客服", "发货时间请以详情页为准").
_SHOP_NOTICE_RE = re.compile(r"(?:问题|售后|发货)请(?:跟|和|与|联系|咨询).{0,12}客服|请以.{0,12}为准")
MAX_CANDIDATES_PER_ROOM = 1_000
REPLY, NOTICE = "reply", "notice"


def shop_voice(folded: str, grievance: bool) -> str:
    """``"reply"`` (an @-reply in the shop's voice), ``"notice"`` (a shop notice) or ``""``; text only."""
    if grievance:
        return ""
    if _MENTION_RE.match(folded):
        return REPLY if _SHOP_VOICE_RE.search(folded) is not None else ""
    if _SHOP_NOTICE_RE.search(folded) is not None and "?" not in folded and "吗" not in folded:
        return NOTICE
    return ""


class ShopVoice:
    """Tells the shop's own comments apart (pure; bounded per-room state)."""

    def __init__(self, settings: ShopSettings) -> None:
        self.accounts = frozenset(a for a in settings.accounts if a)
        self.voice_replies = settings.voice_replies
        self.learn_after = settings.learn_after  # 0: never learn an account
        self._seen: dict[str, OrderedDict[str, int]] = {}

    def is_shop(self, room: str, user_id: str, voice: str) -> bool:
        """True for a configured or learned shop account, or a text in the shop's voice (``voice`` is
        :func:`shop_voice` of the text, computed once per text by the cached analysis)."""
        if user_id and user_id in self.accounts:
            return True
        seen = self._seen.get(room)
        if user_id and seen is not None and seen.get(user_id, 0) >= self.learn_after > 0:
            return True
        if not self.voice_replies or not voice:
            return False
        if voice == REPLY and user_id and self.learn_after > 0:
            if seen is None:
                seen = self._seen[room] = OrderedDict()
            seen[user_id] = seen.get(user_id, 0) + 1
            seen.move_to_end(user_id)
            if len(seen) > MAX_CANDIDATES_PER_ROOM:
                seen.popitem(last=False)
        return True

    def tracked(self) -> int:
        return sum(len(s) for s in self._seen.values())
