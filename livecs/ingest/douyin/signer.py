"""The pluggable URL signer of the Douyin push socket (``douyin.signer``).

Douyin refuses a push connection whose query lacks a valid ``signature``; the algorithm lives in the web
page's obfuscated script and changes, and this machine cannot reach Douyin, so livecs does not ship one.
The user configures a signer they maintain:

- ``http://127.0.0.1:PORT/path`` (or https): livecs POSTs ``{"url": <ws url>, "params": {…},
  "user_agent": "…"}`` as JSON and reads the answer;
- anything else is a command (split like a shell would, no shell run): livecs starts it, writes the same
  JSON to its stdin and reads its stdout.

The answer is either the bare signature text, or a JSON object ``{"signature": "…", "params": {…}}``
whose optional ``params`` are added to the query (for signers that also compute other parameters). The
cookie is never sent to the signer. Errors (no answer within ``douyin.signer_timeout_s``, a non-zero exit,
an HTTP error, an empty signature) raise :class:`SignerError`, which the client treats like a failed
connection (it retries with backoff). No signer configured raises :class:`SignerNotConfigured`, whose
message names the setting.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import aiohttp
import orjson

from livecs.config import ConfigError
from livecs.errors import LivecsError

SETTING: Final = "douyin.signer"
MAX_ANSWER_BYTES: Final = 64 * 1024


class SignerError(LivecsError):
    """The signer did not give a signature."""


class SignerNotConfigured(ConfigError):
    """``douyin.signer`` is empty."""


@dataclass(frozen=True, slots=True)
class Signed:
    signature: str
    params: Mapping[str, str] = field(default_factory=dict)


class Signer(Protocol):
    async def sign(self, url: str, params: Mapping[str, str], user_agent: str) -> Signed: ...


def _request(url: str, params: Mapping[str, str], user_agent: str) -> bytes:
    return orjson.dumps({"url": url, "params": dict(params), "user_agent": user_agent})


def parse_answer(raw: bytes | str) -> Signed:
    """The signer's answer: bare text, or ``{"signature": …, "params": {…}}``."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = text.strip()
    if text.startswith("{"):
        try:
            obj: Any = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise SignerError(f"signer answered unreadable JSON: {exc}") from None
        sig = obj.get("signature") if isinstance(obj, dict) else None
        extra = obj.get("params") if isinstance(obj, dict) else None
        if not isinstance(sig, str) or not sig:
            raise SignerError("signer answered JSON without a 'signature' string")
        params = {str(k): str(v) for k, v in extra.items()} if isinstance(extra, dict) else {}
        return Signed(sig, params)
    line = text.splitlines()[0].strip() if text else ""
    if not line:
        raise SignerError("signer answered an empty signature")
    return Signed(line)


class HttpSigner:
    def __init__(self, url: str, timeout_s: float) -> None:
        self.url = url
        self.timeout_s = timeout_s

    async def sign(self, url: str, params: Mapping[str, str], user_agent: str) -> Signed:
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(
                    self.url,
                    data=_request(url, params, user_agent),
                    headers={"Content-Type": "application/json"},
                ) as resp,
            ):
                body = await resp.content.read(MAX_ANSWER_BYTES)
                if resp.status != 200:
                    raise SignerError(f"HTTP signer {self.url} answered {resp.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SignerError(f"HTTP signer {self.url}: {exc!r}") from None
        return parse_answer(body)


class CommandSigner:
    def __init__(self, argv: list[str], timeout_s: float) -> None:
        self.argv = argv
        self.timeout_s = timeout_s

    async def sign(self, url: str, params: Mapping[str, str], user_agent: str) -> Signed:
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise SignerError(f"signer command {self.argv[0]!r} could not start: {exc}") from None
        try:
            async with asyncio.timeout(self.timeout_s):
                out, err = await proc.communicate(_request(url, params, user_agent))
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise SignerError(f"signer command gave no answer within {self.timeout_s:g} s") from None
        except asyncio.CancelledError:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            raise
        if proc.returncode != 0:
            tail = err.decode("utf-8", "replace").strip()[-200:]
            raise SignerError(f"signer command exited {proc.returncode}: {tail}")
        return parse_answer(out[:MAX_ANSWER_BYTES])


def make_signer(setting: str, timeout_s: float) -> Signer:
    """The signer ``douyin.signer`` names; :class:`SignerNotConfigured` when it is empty."""
    spec = setting.strip()
    if not spec:
        raise SignerNotConfigured(
            f"{SETTING} is not set: Douyin needs a URL signature. Set {SETTING} (LIVECS_DOUYIN__SIGNER) to a "
            "local HTTP signer (http://127.0.0.1:PORT/sign) or a command that reads JSON on stdin and prints "
            "the signature; see the README section Douyin"
        )
    if spec.startswith(("http://", "https://")):
        return HttpSigner(spec, timeout_s)
    try:
        argv = shlex.split(spec)
    except ValueError as exc:
        raise ConfigError(f"{SETTING}: cannot split the command {spec!r}: {exc}") from None
    return CommandSigner(argv, timeout_s)
