"""Post-stream review downloads: ``GET /api/sessions`` and ``GET /api/review/{session_id}`` (operator).

The report is built by :class:`livecs.console.review.ReviewDownloads`; this module decides who gets what
(``mask=0`` is for admins only, and logged) and how it is sent (its own strict CSP, sandboxed).
"""

from __future__ import annotations

import logging

from aiohttp import web

from livecs.console.auth import Role, current_user, requires
from livecs.console.review import KINDS, send_file
from livecs.console.views.common import OPERATOR_ROLES, REVIEW, json_response
from livecs.errors import ErrorCode, LivecsError

log = logging.getLogger("livecs.console")

#: a downloaded or opened review report: its own inline CSS and SVG, nothing else (no script, no request, and
#: sandboxed: an opaque origin even if opened in the browser)
REVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox"
)


@requires(*OPERATOR_ROLES)
async def api_sessions(request: web.Request) -> web.StreamResponse:
    return json_response({"sessions": await request.app[REVIEW].sessions()})


@requires(*OPERATOR_ROLES)
async def api_review(request: web.Request) -> web.StreamResponse:
    """The review of one session: ``format=html`` (report.html) or ``zip`` (every output); masked unless an
    admin asks ``mask=0``; ``inline=1`` opens the HTML in the browser instead of downloading it."""
    user = current_user(request)
    kind = request.query.get("format", "html")
    if kind not in KINDS:
        raise LivecsError("格式只能是 html 或 zip", "format must be html or zip", code=ErrorCode.INVALID)
    mask_arg = request.query.get("mask", "1")
    if mask_arg not in ("0", "1"):
        raise LivecsError("mask 只能是 0 或 1", "mask must be 0 or 1", code=ErrorCode.INVALID)
    mask = mask_arg == "1"
    if not mask and user.role is not Role.ADMIN:
        raise LivecsError(
            "不脱敏的复盘报告仅限管理员下载",
            "unmasked review requires the admin role",
            code=ErrorCode.FORBIDDEN,
        )
    session_id = request.match_info["session_id"]
    downloads = request.app[REVIEW]
    if not await downloads.exists(session_id):
        raise LivecsError("没有这个场次", "unknown session", code=ErrorCode.NOT_FOUND)
    if not mask:
        log.warning("unmasked review of session %s requested by %s (admin)", session_id, user.name)
    try:
        build, download = await downloads.acquire(session_id, mask, kind)
    except Exception:
        log.exception("review of session %s failed", session_id)
        raise LivecsError("复盘报告生成失败", "review failed", code=ErrorCode.FAILED) from None
    try:
        disposition = "inline" if kind == "html" and request.query.get("inline") == "1" else "attachment"
        resp = web.StreamResponse()
        resp.content_type = download.content_type
        if kind == "html":
            resp.charset = "utf-8"
            resp.headers["Content-Security-Policy"] = REVIEW_CSP
        resp.headers["Content-Disposition"] = f'{disposition}; filename="{download.filename}"'
        await send_file(request, resp, download.path)  # now, while this request still holds the build
        return resp
    finally:
        downloads.release(build)
