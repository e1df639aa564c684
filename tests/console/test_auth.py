"""Login hardening (issue 11): the login form checks Origin, the cookie carries a revocable session id (never
the token), wrong tokens lock the address out (logged); the streamer view never announces an approval-only
coupon."""

from __future__ import annotations

import logging

import pytest

from livecs.console.auth import LoginThrottle, Role, Sessions, User

from .conftest import TOKENS, VALID_LIBRARY, bearer, comment_group


def _origin(con) -> dict[str, str]:
    return {"Origin": f"http://{con.client.server.host}:{con.client.server.port}"}


async def test_login_refuses_a_foreign_or_missing_origin(make_console) -> None:
    """Regression: ``POST /login`` accepted a foreign Origin (login CSRF: a page elsewhere logs the browser
    into the attacker's account)."""
    con = await make_console()
    c = con.client
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"}, {}):
        r = await c.post("/login", data={"token": TOKENS["alice"]}, headers=headers, allow_redirects=False)
        assert r.status == 403, headers
        assert "Set-Cookie" not in r.headers
    assert not c.session.cookie_jar.filter_cookies(c.make_url("/"))
    r = await c.post("/login", data={"token": TOKENS["alice"]}, headers=_origin(con), allow_redirects=False)
    assert r.status == 303
    login_page = await c.get("/login")
    assert login_page.headers["Referrer-Policy"] == "same-origin"  # so browsers send the real Origin


async def test_cookie_holds_a_revocable_session_not_the_token(make_console) -> None:
    """Regression: the cookie held the raw long-lived token, so logout could not revoke it."""
    con = await make_console()
    c = con.client
    r = await c.post("/login", data={"token": TOKENS["alice"]}, headers=_origin(con), allow_redirects=False)
    session_id = r.cookies[con.settings.cookie_name].value
    assert session_id and TOKENS["alice"] not in session_id and session_id not in TOKENS.values()
    assert r.cookies[con.settings.cookie_name]["max-age"] == str(int(con.settings.session_ttl_s))
    assert (await c.get("/api/queue")).status == 200
    c.session.cookie_jar.clear()
    raw = {"Cookie": f"{con.settings.cookie_name}={TOKENS['alice']}"}
    assert (await c.get("/api/queue", headers=raw)).status == 401  # a token is not a session
    stolen = {"Cookie": f"{con.settings.cookie_name}={session_id}"}
    assert (await c.get("/api/queue", headers=stolen)).status == 200
    r = await c.post("/logout", headers={**stolen, **_origin(con)}, allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/login"
    assert (await c.get("/api/queue", headers=stolen)).status == 401  # revoked everywhere
    assert (await c.get("/api/queue", headers=bearer("alice"))).status == 200  # the token itself still works


def test_sessions_expire_and_are_bounded() -> None:
    now = [0.0]
    sessions = Sessions(ttl_s=60, max_sessions=3, clock=lambda: now[0])
    alice = User("alice", Role.OPERATOR, "t" * 20)
    ids = [sessions.create(alice) for _ in range(4)]
    assert len(set(ids)) == 4 and len(sessions) == 3
    assert sessions.user_for(ids[0]) is None  # the oldest was dropped
    assert sessions.user_for(ids[3]) == alice
    now[0] = 61
    assert sessions.user_for(ids[3]) is None
    assert not sessions.revoke(ids[3]) and not sessions.revoke(None)


async def test_wrong_tokens_lock_the_address_out(make_console, caplog: pytest.LogCaptureFixture) -> None:
    """Regression: wrong tokens were never limited (≈ 1,240 tries/s answered). After
    ``login_max_failures`` wrong tokens the address gets 429 with Retry-After for every token it presents,
    right or wrong, on the API and the login form, and the lockout is logged."""
    con = await make_console(login_max_failures=5, login_lockout_s=120)
    c = con.client
    r = await c.post("/login", data={"token": TOKENS["alice"]}, headers=_origin(con), allow_redirects=False)
    assert r.status == 303  # a session opened before the lockout
    session = {"Cookie": f"{con.settings.cookie_name}={r.cookies[con.settings.cookie_name].value}"}
    c.session.cookie_jar.clear()
    caplog.set_level(logging.WARNING, logger="livecs.console.auth")
    for i in range(4):
        r = await c.get("/api/queue", headers={"Authorization": f"Bearer guess-{i:020d}"})
        assert r.status == 401
    r = await c.post("/login", data={"token": "guess-5"}, headers=_origin(con), allow_redirects=False)
    assert r.status == 401  # the fifth wrong token starts the lockout
    assert any("locked out" in rec.getMessage() and "127.0.0.1" in rec.getMessage() for rec in caplog.records)
    for headers in ({"Authorization": "Bearer guess-again-0000000000"}, bearer("alice")):
        r = await c.get("/api/queue", headers=headers)
        assert r.status == 429 and 0 < int(r.headers["Retry-After"]) <= 120
    r = await c.post("/login", data={"token": TOKENS["alice"]}, headers=_origin(con), allow_redirects=False)
    assert r.status == 429 and "Set-Cookie" not in r.headers and "次数过多" in await r.text()
    for i in range(200):  # a flood is refused without checking a single token
        r = await c.get("/api/me", headers={"Authorization": f"Bearer flood-{i:020d}"})
        assert r.status == 429
    from livecs.console.app import AUTH

    auth = con.app[AUTH]
    assert auth.throttle.lockouts == 1 and auth.throttle.refused >= 203
    assert (await c.get("/api/queue", headers=session)).status == 200  # an open session is not a guess


def test_throttle_window_addresses_and_expiry() -> None:
    now = [0.0]
    t = LoginThrottle(max_failures=3, window_s=10, lockout_s=30, max_addresses=2, clock=lambda: now[0])
    assert not t.failed("a") and not t.failed("a")
    now[0] = 11  # the first two fell out of the window
    assert not t.failed("a") and not t.failed("a")
    assert t.failed("a")  # three within 10 s
    assert t.retry_after("a") == 30 and t.retry_after("b") == 0
    assert not t.failed("b") and not t.failed("c") and not t.failed("d")  # bounded: oldest forgotten
    now[0] = 41.5
    assert t.retry_after("a") == 0
    t.failed("a")
    t.succeeded("a")
    assert not t.failed("a") and not t.failed("a")


COMPENSATION = """\
  - {id: comp_20, name: 20元售后补偿券, type: compensation, amount: 20, stock: 10,
     trigger: {intents: [complaint], sentiments: [neg]}}
"""


async def test_streamer_view_never_announces_an_approval_only_coupon(make_console) -> None:
    """Regression: the streamer view announced a compensation coupon (needs a supervisor's approval, one
    viewer at a time) — suggested most often, or just approved for one viewer."""
    from livecs.models import Intent, Priority, Sentiment

    con = await make_console()
    library = VALID_LIBRARY.replace("coupons:\n", "coupons:\n" + COMPENSATION)
    up = con.merchant.upload([("lib.yaml", library.encode())], "shop", activate=True)
    assert up["ok"], up
    complaints = [
        comment_group(
            f"质量太差了要投诉 {k}",
            intent=Intent.COMPLAINT,
            sentiment=Sentiment.NEG,
            priority=Priority.P0,
            coupon="comp_20",
            user_id=f"angry{k}",
        )
        for k in range(5)
    ]
    await con.publish(*complaints)
    await con.settle()
    streamer = await (await con.client.get("/api/streamer", headers=bearer("star"))).json()
    assert streamer["coupon"]["id"] == "full_300_50"  # the suggested-most compensation coupon is skipped
    r = await con.client.post(
        "/api/actions",
        json={"item_id": f"m:{complaints[0][0].comment_id}", "kind": "approve_coupon"},
        headers=bearer("alice"),
    )
    assert r.status == 200 and (await r.json())["coupon"]["rule_id"] == "comp_20"
    streamer = await (await con.client.get("/api/streamer", headers=bearer("star"))).json()
    assert streamer["coupon"]["id"] == "full_300_50"
    assert "补偿" not in str(streamer)
    assert con.hub.coupons.announceable("comp_20") is None
