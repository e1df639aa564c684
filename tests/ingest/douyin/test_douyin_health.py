"""Capture health, pure: rates per method over the window, ages, reconnects, drops, the stalled flag."""

from __future__ import annotations

from livecs.ingest.douyin.health import CaptureHealth


def test_rates_ages_reconnects_drops() -> None:
    h = CaptureHealth(window_s=10, stall_after_s=30)
    h.connected(100.0)
    for i in range(50):
        h.message("WebcastChatMessage", 100.0 + i * 0.1)  # 50 chats over 5 s
    for i in range(10):
        h.message("WebcastLikeMessage", 104.0 + i * 0.1)
    h.drop("bad_frame")
    h.drop("malformed_message", 2)
    snap = h.snapshot(105.0)
    assert snap["rates"] == {"WebcastChatMessage": 5.0, "WebcastLikeMessage": 1.0, "total": 6.0}
    assert snap["last_message_age_s"] == 0.1 and snap["last_chat_age_s"] == 0.1
    assert snap["drops"] == {"bad_frame": 1, "malformed_message": 2} and snap["dropped"] == 3
    assert snap["messages"] == 60 and snap["live"] and not snap["stalled"]
    h.disconnected()
    h.connected(106.0)
    assert h.snapshot(106.0)["reconnects"] == 1
    # the window slides: 20 s later nothing is left in it
    assert h.rates(125.0) == {"total": 0.0}


def test_stalled_only_while_live() -> None:
    h = CaptureHealth(stall_after_s=60)
    assert not h.stalled(1000.0)  # never connected
    h.connected(0.0)
    assert not h.stalled(59.0) and h.stalled(60.0)  # no chat since the connection
    h.message("WebcastChatMessage", 100.0)
    assert not h.stalled(150.0) and h.stalled(160.0)
    h.message("WebcastLikeMessage", 159.0)  # likes and enters do not count: chat is what stalls
    assert h.stalled(160.0)
    h.disconnected()
    assert not h.stalled(500.0)  # a disconnect is the ingest_disconnect alert's business
    h.connected(500.0)
    h.live_ended()
    assert not h.stalled(1000.0) and h.snapshot(1000.0)["ended"]
