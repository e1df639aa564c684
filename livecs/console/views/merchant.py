"""The merchant API (merchant, admin): library versions, products, upload, activate, roll back, on air.

``GET /api/merchant/versions`` ``/api/merchant/products`` ``/api/merchant/rollback`` (the preview: what a
rollback would do, with its ``confirm_token``, also sent as the ``ETag``); ``POST /api/merchant/upload``
(multipart: ``file`` × up to :data:`MAX_UPLOAD_FILES`, ``name``, ``activate``) ``/api/merchant/activate``
``/api/merchant/rollback`` (``{confirm_token}``, ``If-Match: <ETag>`` or ``{version, confirm: true}``;
anything else: 400, a stale one: 409) ``/api/merchant/on-air``. The work is
:class:`livecs.console.merchant.MerchantBackend`'s; its :class:`~livecs.console.merchant.MerchantError` is
answered by :mod:`livecs.console.views.errors`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import BodyPartReader, web
from pydantic import BaseModel, ConfigDict, Field

from livecs.console.auth import Role, current_user, requires
from livecs.console.views.common import HUB, MERCHANT, SETTINGS, json_response, read_model
from livecs.console.views.errors import HTTP_STATUS
from livecs.errors import ErrorCode, LivecsError

MAX_UPLOAD_FILES = 10
MAX_VERSION_NAME_BYTES = 400  # a version name field: read at most this much


class OnAirIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    link: int | None = Field(None, ge=0, le=100_000)


class RollbackIn(BaseModel):
    """A rollback's confirmation: the preview's token, or the version it goes to with ``confirm``."""

    model_config = ConfigDict(extra="forbid")
    confirm_token: str = Field("", max_length=64)
    version: str = Field("", max_length=32)
    confirm: bool = False


class VersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str = Field(min_length=1, max_length=32)
    #: an admin activating a version that carries error-level terms (广告法, 禁忌语) says why (recorded)
    override_reason: str = Field("", max_length=500)


@requires(Role.MERCHANT)
async def merchant_versions(request: web.Request) -> web.StreamResponse:
    return json_response({"versions": request.app[MERCHANT].versions()})


@requires(Role.MERCHANT)
async def merchant_products(request: web.Request) -> web.StreamResponse:
    return json_response(request.app[MERCHANT].products())


@requires(Role.MERCHANT)
async def merchant_upload(request: web.Request) -> web.StreamResponse:
    """Read the form (each file up to ``console.upload_max_bytes``), validate and store it as a version; a
    version that did not validate is answered with its issues as ``invalid``."""
    limit = request.app[SETTINGS].upload_max_bytes
    files: list[tuple[str, bytes]] = []
    activate = False
    name = ""
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError):
        raise LivecsError(
            "请以表单上传文件", "expected multipart/form-data", code=ErrorCode.BAD_REQUEST
        ) from None
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "activate":
            activate = (await part.text()).strip().lower() in {"1", "true", "on", "yes"}
            continue
        if part.name == "name":
            name = (await part.read_chunk(MAX_VERSION_NAME_BYTES)).decode("utf-8", "replace").strip()[:80]
            continue
        if part.name != "file" or not part.filename:
            continue
        if len(files) >= MAX_UPLOAD_FILES:
            raise LivecsError(
                f"一次最多上传 {MAX_UPLOAD_FILES} 个文件", "too many files", code=ErrorCode.TOO_LARGE
            )
        data = bytearray()
        while chunk := await part.read_chunk():
            data.extend(chunk)
            if len(data) > limit:
                raise LivecsError(
                    f"文件超过 {limit // 1_000_000} MB 上限", "file too large", code=ErrorCode.TOO_LARGE
                )
        files.append((Path(part.filename).name[:200], bytes(data)))
    user = current_user(request).name
    merchant = request.app[MERCHANT]
    on_air = merchant.products()["on_air"]
    result = await asyncio.get_running_loop().run_in_executor(
        None, merchant.upload, files, user, activate, name
    )
    await _on_air_after_switch(request, on_air, user)
    return json_response(result, 200 if result["ok"] else HTTP_STATUS[ErrorCode.INVALID])


@requires(Role.MERCHANT)
async def merchant_activate(request: web.Request) -> web.StreamResponse:
    body = await read_model(request, VersionIn)
    user = current_user(request)
    reason = body.override_reason.strip()
    if reason and user.role is not Role.ADMIN:
        raise LivecsError(
            "只有管理员可以强制启用含违禁用语的话术库", "only an admin may override", code=ErrorCode.FORBIDDEN
        )
    on_air = request.app[MERCHANT].products()["on_air"]
    result = request.app[MERCHANT].activate(body.version, user.name, reason)
    await _on_air_after_switch(request, on_air, user.name)
    return json_response(result)


@requires(Role.MERCHANT)
async def merchant_rollback_preview(request: web.Request) -> web.StreamResponse:
    """What a rollback would do now; its ``confirm_token`` is also the ``ETag``."""
    preview = request.app[MERCHANT].rollback_preview()
    response = json_response(preview)
    response.headers["ETag"] = f'"{preview["confirm_token"]}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@requires(Role.MERCHANT)
async def merchant_rollback(request: web.Request) -> web.StreamResponse:
    """Roll back, confirmed (see :class:`RollbackIn`; an empty body is an unconfirmed request)."""
    body = await read_model(request, RollbackIn) if await request.read() else RollbackIn()
    token = body.confirm_token or request.headers.get("If-Match", "").strip().strip('"')
    user = current_user(request).name
    on_air = request.app[MERCHANT].products()["on_air"]
    result = request.app[MERCHANT].rollback(user, token, body.version, body.confirm)
    await _on_air_after_switch(request, on_air, user)
    return json_response(result)


@requires(Role.MERCHANT)
async def merchant_on_air(request: web.Request) -> web.StreamResponse:
    body = await read_model(request, OnAirIn)
    user = current_user(request).name
    result = request.app[MERCHANT].set_on_air(body.link, user)
    await request.app[HUB].record_on_air(
        body.link, user
    )  # the review shades on-air periods from these events
    return json_response(result)


async def _on_air_after_switch(request: web.Request, before: int | None, user: str) -> None:
    """A library switch whose link number now names another product takes it off air (the registry clears
    it): recorded as an ``on_air`` change, so the review's on-air period ends there too."""
    if before is not None and request.app[MERCHANT].products()["on_air"] is None:
        await request.app[HUB].record_on_air(None, user)
