"""Bilibili live: the pure packet codec (:mod:`.codec`), the command parser (:mod:`.messages`) and the
asyncio websocket source (:mod:`.client`). Replay of recorded danmaku lives in :mod:`.replay`."""
