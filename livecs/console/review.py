"""The console's review downloads: the store's sessions, and :func:`livecs.review.build_review` on demand.

:class:`ReviewDownloads` builds a review in a temporary folder on its own small thread pool (never on the
event loop), shares one build between concurrent requests for the same session, mask and format (the second
request waits for the first one's files instead of building again), and removes the folder once the last
request using it has sent its file (or, when every requester went away, once the build finishes). A ``zip``
download holds every output (``report.html``, CSV, XLSX, JSONL); an ``html`` download builds the report only.

Who may ask for what (``mask=False`` only for admins) is the caller's business: see ``api_review`` in
:mod:`livecs.console.views.review`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web

from livecs.store import count_rows, list_sessions

if TYPE_CHECKING:  # livecs.review pulls in matplotlib: imported on the first build, not at console start
    from livecs.review.settings import ReviewSettings
    from livecs.scripts.settings import ScriptsSettings

log = logging.getLogger("livecs.console.review")

Kind = Literal["html", "zip"]
KINDS: tuple[Kind, ...] = ("html", "zip")
#: the most recent sessions listed by ``GET /api/sessions``
MAX_SESSIONS_LISTED = 100
MAX_SESSION_ID_CHARS = 200
#: reviews built at the same time (more wait in line): each is CPU-heavy and reads the whole session
MAX_CONCURRENT_BUILDS = 2
SEND_CHUNK_BYTES = 1 << 20
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Download:
    """One finished build: the file to send and what to call it."""

    path: Path
    filename: str
    content_type: str


@dataclass
class _Build:
    key: tuple[str, bool, Kind]
    tmp: Path
    future: Future[Download]
    #: what requests await (shielded): one asyncio view of ``future``, so that a requester going away never
    #: cancels the build the others wait for
    done: asyncio.Future[Download]
    users: int = 0


async def send_file(request: web.Request, resp: web.StreamResponse, path: Path) -> None:
    """Stream ``path`` as the body of ``resp`` (headers set by the caller), reading off the event loop."""
    loop = asyncio.get_running_loop()
    f = await loop.run_in_executor(None, path.open, "rb")
    try:
        resp.content_length = (await loop.run_in_executor(None, path.stat)).st_size
        await resp.prepare(request)
        while chunk := await loop.run_in_executor(None, f.read, SEND_CHUNK_BYTES):
            await resp.write(chunk)
        await resp.write_eof()
    finally:
        await loop.run_in_executor(None, f.close)


def _retrieve(fut: asyncio.Future[Download]) -> None:
    """Mark a failed build's exception as seen (its requesters may all have gone away)."""
    if not fut.cancelled():
        fut.exception()


def download_name(session_id: str, kind: Kind, masked: bool) -> str:
    """``review-<session>[-unmasked].html|zip`` with only filename-safe ASCII characters."""
    stem = _UNSAFE_FILENAME.sub("_", session_id).strip("._") or "session"
    suffix = "" if masked else "-unmasked"
    return f"review-{stem[:80]}{suffix}.{kind}"


class ReviewDownloads:
    """Session list and on-demand review builds for one record (``store.path``)."""

    def __init__(
        self,
        db_path: str | Path,
        reader: Callable[[], Any],
        *,
        settings: ReviewSettings | None = None,
        tmp_dir: str | Path | None = None,
        max_concurrent: int = MAX_CONCURRENT_BUILDS,
        library_db: str | Path | None = None,
        scripts: ScriptsSettings | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self.library_db = library_db  # the merchant library, for coupons against stock
        self.scripts = scripts  # the configured ad-law terms, for the 质检 table
        self._reader = reader
        self.settings = settings
        self.tmp_dir = Path(tmp_dir) if tmp_dir is not None else None
        self._executor = ThreadPoolExecutor(max_workers=max_concurrent, thread_name_prefix="livecs-review")
        self._builds: dict[tuple[str, bool, Kind], _Build] = {}
        self.builds_started = 0  # for tests and logs: how many builds actually ran
        self._closed = False

    # -- sessions ---------------------------------------------------------------------------------------
    def _sessions(self) -> list[dict[str, Any]]:
        conn = self._reader()
        try:
            infos = list_sessions(conn)[-MAX_SESSIONS_LISTED:]
            return [
                {
                    "id": s.session_id,
                    "room": s.room,
                    "source": s.source,
                    "started_at": s.started_at,
                    "ended_at": s.ended_at,
                    "comments": count_rows(conn, "comments", s.session_id),
                }
                for s in reversed(infos)  # most recent first
            ]
        finally:
            conn.close()

    def _exists(self, session_id: str) -> bool:
        conn = self._reader()
        try:
            row = conn.execute("SELECT 1 FROM sessions WHERE session_id=?", (session_id,)).fetchone()
            return row is not None
        finally:
            conn.close()

    # quick reads go to the loop's default pool, not behind long builds
    async def sessions(self) -> list[dict[str, Any]]:
        return await asyncio.get_running_loop().run_in_executor(None, self._sessions)

    async def exists(self, session_id: str) -> bool:
        if not session_id or len(session_id) > MAX_SESSION_ID_CHARS:
            return False
        return await asyncio.get_running_loop().run_in_executor(None, self._exists, session_id)

    # -- builds -----------------------------------------------------------------------------------------
    def _build(self, session_id: str, mask: bool, kind: Kind, tmp: Path) -> Download:
        """Runs on the pool: the review into ``tmp/out``, zipped to ``tmp/<name>.zip`` for ``zip``."""
        from livecs.review import FORMATS, ReviewError, build_review

        out = tmp / "out"
        formats = ["html"] if kind == "html" else list(FORMATS)
        result = build_review(
            self.db_path,
            session_id,
            out,
            formats,
            mask=mask,
            settings=self.settings,
            library_db=self.library_db,
            scripts=self.scripts,
        )
        name = download_name(result.session_id, kind, result.masked)
        if kind == "html":
            report = result.report
            if report is None:  # build_review always writes it when asked for html
                raise ReviewError("the review wrote no report.html")
            download = Download(report, name, "text/html")
        else:
            archive = tmp / name
            with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
                for path in sorted(result.files):
                    zf.write(path, arcname=path.name)
            download = Download(archive, name, "application/zip")
        log.info("review of %s built (%s, masked=%s) in %.1f s", session_id, kind, mask, result.seconds)
        return download

    async def acquire(self, session_id: str, mask: bool, kind: Kind) -> tuple[_Build, Download]:
        """Start (or join) the build of ``(session, mask, kind)`` and wait for its file.

        On success, pair with :meth:`release` once the file is sent: the temporary folder lives until the
        last user releases it. On failure (or cancellation) this has released already.
        """
        if self._closed:
            raise RuntimeError("review downloads are closed")
        key = (session_id, mask, kind)
        build = self._builds.get(key)
        if build is None:
            tmp = Path(tempfile.mkdtemp(prefix="livecs-review-", dir=self.tmp_dir))
            future = self._executor.submit(self._build, session_id, mask, kind, tmp)
            build = _Build(key, tmp, future, asyncio.wrap_future(future))
            build.done.add_done_callback(_retrieve)
            self._builds[key] = build
            self.builds_started += 1
        build.users += 1
        try:
            download = await asyncio.shield(build.done)
        except BaseException:
            self.release(build)
            raise
        return build, download

    def release(self, build: _Build) -> None:
        """One user is done with ``build``; the last one removes its folder (after the build finished)."""
        build.users -= 1
        if build.users > 0:
            return
        if self._builds.get(build.key) is build:
            del self._builds[build.key]
        if build.future.done():
            asyncio.get_running_loop().run_in_executor(None, shutil.rmtree, build.tmp, True)
        else:  # a requester went away mid-build: remove the folder when the build ends
            build.future.add_done_callback(lambda _f: shutil.rmtree(build.tmp, ignore_errors=True))

    async def close(self) -> None:
        """Stop taking builds; queued ones are cancelled, running ones finish and are removed."""
        self._closed = True
        for build in list(self._builds.values()):
            build.users = 1
            self.release(build)
        self._executor.shutdown(wait=False, cancel_futures=True)


__all__ = ["KINDS", "Download", "Kind", "ReviewDownloads", "download_name"]
