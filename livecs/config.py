"""The settings tree: one typed :class:`Settings` (``Settings.bus``, ``.triage``, ``.scripts``, ``.review``…),
one loader (:func:`load_settings`), one environment rule.

``config/livecs.yaml`` is the file; a section may keep its keys in a file of its own (``triage: {include:
triage.yaml}``: that file's keys, then the keys beside ``include``). Relative paths (``store.path``,
``scripts.library_db``…) are resolved against the directory of the file that sets them, never the working
directory; built-in defaults are inside the repository.

Override any key from the environment with ``LIVECS_<SECTION>__<KEY>=value`` (double underscore between
levels, as deep as the tree goes, value parsed as YAML), e.g. ``LIVECS_BUS__QUEUE_SIZE=50000`` or
``LIVECS_TRIAGE__SPAM__GIBBERISH_RUN=10``. ``LIVECS_CONFIG`` points at another file. A bad value stops the
start with a message naming the key and its variable.

The stages own their sections' models (:mod:`livecs.ingest.settings`, :mod:`livecs.triage.settings`,
:mod:`livecs.scripts.settings`, :mod:`livecs.review.settings`, :mod:`livecs.tickets.model`): plain pydantic
modules, which this one composes; nothing here imports a stage's logic.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from livecs.errors import ErrorCode, LivecsError
from livecs.ingest.settings import IngestSettings
from livecs.paths import DEFAULT_CONFIG, PATH_FIELD, ROOT
from livecs.review.settings import ReviewSettings
from livecs.scripts.settings import ScriptsSettings
from livecs.tickets.model import TicketSettings
from livecs.triage.settings import TriageSettings

log = logging.getLogger(__name__)

ENV_PREFIX = "LIVECS_"
#: the key of a section that names the file holding its keys
INCLUDE_KEY = "include"
#: sections whose variables had their own prefix before the one tree (``LIVECS_TRIAGE_CLUSTER__X``)
_OLD_ENV_PREFIXES = ("TRIAGE", "SCRIPTS")


class ConfigError(LivecsError, ValueError):
    """The configuration cannot be used; the message says which key and why."""

    code = ErrorCode.INVALID


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BusSettings(_Section):
    queue_size: int = Field(10_000, ge=1, description="in-process: bound of each stage's queue")
    results_queue_size: int = Field(
        20_000, ge=1, description="bound of the display (results) queue, in records"
    )
    batch_size: int = Field(500, ge=1, description="records a stage reads at once")
    block_ms: int = Field(200, ge=1, description="how long a read waits for the first record")
    stream_maxlen: int = Field(
        1_000_000, ge=1000, description="Redis: records kept per stream (approximate MAXLEN)"
    )
    max_lag: int = Field(200_000, ge=1, description="Redis: unread records before publish waits")
    lag_check_interval_s: float = Field(0.5, gt=0, description="Redis: how often publish re-reads lag")
    lag_wait_poll_s: float = Field(0.02, gt=0, description="Redis: re-read interval while publish waits")
    reclaim_idle_ms: int = Field(
        30_000, ge=1, description="Redis: idle time before a pending entry is reclaimed"
    )
    reclaim_interval_s: float = Field(5.0, gt=0, description="Redis: how often a consumer runs XAUTOCLAIM")
    max_deliveries: int = Field(
        5, ge=1, description="Redis: deliveries of an unacknowledged entry before it is dead-lettered"
    )
    dead_letter_maxlen: int = Field(
        10_000, ge=1, description="Redis: entries kept per room's dead-letter stream (approximate MAXLEN)"
    )
    outage_buffer: int = Field(
        50_000,
        ge=0,
        description="Redis: records kept in memory while Redis is away; beyond, ingest pauses or answers 503",
    )


class StoreSettings(_Section):
    path: str = Field(
        str(ROOT / "data" / "livecs.db"),
        description="SQLite file of the record",
        json_schema_extra=PATH_FIELD,
    )
    busy_timeout_ms: int = Field(10_000, ge=0)


class PipelineSettings(_Section):
    workers: int = Field(1, ge=0, description="processing workers in this process (0 = ingest only)")
    stop_drain_s: float = Field(10.0, gt=0, description="on stop, how long to wait for accepted records")
    depth_refresh_s: float = Field(1.0, gt=0, description="how often queue depths are read for the counters")
    shed_display_priorities: list[str] = Field(
        default_factory=lambda: ["P3"], description="priorities the display may drop when consoles lag"
    )


#: shortest webhook token accepted: a short one is guessed (issue 11: a one-character token was accepted)
MIN_WEBHOOK_TOKEN_CHARS = 16


def check_webhook_token(token: str) -> str:
    """``token`` if it may guard the webhook (empty: one is generated), else :class:`ConfigError`."""
    if token and len(token) < MIN_WEBHOOK_TOKEN_CHARS:
        raise ConfigError(
            f"webhook.token: must be at least {MIN_WEBHOOK_TOKEN_CHARS} characters (got {len(token)}); "
            "leave it empty to have one generated / webhook 令牌至少 16 个字符"
        )
    return token


class WebhookSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8081, ge=0, le=65535)
    token: str = Field(
        "",
        description=f"bearer token, at least {MIN_WEBHOOK_TOKEN_CHARS} characters; empty = generated",
    )

    @field_validator("token")
    @classmethod
    def _token_long_enough(cls, value: str) -> str:
        try:
            return check_webhook_token(value)
        except ConfigError as exc:
            raise ValueError(str(exc).removeprefix("webhook.token: ")) from None


class WsSourceSettings(_Section):
    url: str = "ws://127.0.0.1:8765/"
    heartbeat_s: float = Field(20.0, gt=0)
    backoff_initial_s: float = Field(0.5, gt=0)
    backoff_max_s: float = Field(30.0, gt=0)
    backoff_jitter: float = Field(0.3, ge=0, le=1)
    subscribe: dict[str, Any] = Field(default_factory=dict, description="first frame sent after connecting")


class BilibiliSettings(_Section):
    """Bilibili live danmaku websocket (``serve --source bilibili``); see livecs/ingest/bilibili."""

    url: str = Field("wss://broadcastlv.chat.bilibili.com:443/sub", description="danmaku server websocket")
    room_id: int = Field(0, ge=0, description="real (long) room id; 0 = take it from --room")
    uid: int = Field(0, ge=0, description="logged-in user id; 0 = anonymous")
    key: str = Field("", description="auth token (getDanmuInfo 'token'); keep out of version control")
    buvid: str = Field("", description="buvid3 cookie value sent with the auth packet")
    heartbeat_s: float = Field(30.0, gt=0, description="application heartbeat interval")
    auth_timeout_s: float = Field(10.0, gt=0, description="wait this long for the auth reply")
    backoff_initial_s: float = Field(1.0, gt=0)
    backoff_max_s: float = Field(30.0, gt=0)
    backoff_jitter: float = Field(0.3, ge=0, le=1)
    member_medal_level: int = Field(10, ge=1, description="this room's fan-medal level counted as MEMBER")
    offload_bytes: int = Field(16_384, ge=0, description="messages this large are decoded off the event loop")
    max_decompressed_bytes: int = Field(8_388_608, ge=1024, description="bound of one decompressed body")


class DouyinSettings(_Section):
    """Douyin webcast push socket (``serve --source douyin --room <live id>``); see livecs/ingest/douyin."""

    ws_url: str = Field(
        "wss://webcast5-ws-web-lf.douyin.com/webcast/im/push/v2/", description="push websocket (no query)"
    )
    room_page_url: str = Field(
        "https://live.douyin.com/{live_id}", description="room page read to resolve the live id to a room id"
    )
    room_id: int = Field(0, ge=0, description="numeric room id; set it to skip the room page (0 = resolve)")
    anchor_id: int = Field(
        0, ge=0, description="the anchor's user id (fan clubs of other anchors don't count)"
    )
    signer: str = Field(
        "",
        description="URL signer: http://127.0.0.1:PORT/… (POST JSON) or a command (JSON on stdin); required",
    )
    signer_timeout_s: float = Field(5.0, gt=0)
    cookie: SecretStr = Field(
        SecretStr(""), description="Cookie header (ttwid=…; gifts need a logged-in cookie); never logged"
    )
    user_agent: str = Field(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36",
        description="User-Agent of the page fetch and the websocket (the signer must sign for the same one)",
    )
    params: dict[str, str] = Field(
        default_factory=dict, description="query parameters added to / replacing the built-in ones"
    )
    heartbeat_s: float = Field(10.0, gt=0, description="client heartbeat frame interval")
    receive_grace_s: float = Field(15.0, gt=0, description="silence beyond one heartbeat before reconnecting")
    backoff_initial_s: float = Field(1.0, gt=0)
    backoff_max_s: float = Field(30.0, gt=0)
    backoff_jitter: float = Field(0.3, ge=0, le=1)
    stall_after_s: float = Field(
        60.0, gt=0, description="no chat for this long in a live room: 弹幕停滞 alert"
    )
    svip_grade: int = Field(50, ge=1, description="pay grade (财富等级) counted as SVIP")
    vip_grade: int = Field(30, ge=1, description="pay grade counted as VIP")
    member_club_level: int = Field(10, ge=1, description="this anchor's fan-club level counted as MEMBER")
    max_decompressed_bytes: int = Field(8_388_608, ge=1024, description="bound of one gunzipped payload")
    offload_bytes: int = Field(65_536, ge=0, description="frames this large are decoded off the event loop")
    record: str = Field(
        "", description="append raw frames to this file (serve --record FILE)", json_schema_extra=PATH_FIELD
    )


class DemoSettings(_Section):
    duration_s: float = Field(120.0, gt=0)
    rate: float = Field(30.0, gt=0, description="average comments per second")
    room: str = "demo"
    seed: int = 7
    port: int = Field(8080, ge=0, le=65535)


class ConsoleUser(_Section):
    name: str = Field(min_length=1, max_length=32, description="shown on actions (operator name)")
    role: str = Field(pattern="^(operator|streamer|merchant|admin)$")
    token: str = Field(min_length=16, description="secret; keep out of version control (use LIVECS_ env)")


class AssignSettings(_Section):
    """Optional automatic assignment: new cards of ``priorities`` are offered to an operator online (a console
    open on the room) in the card's skill group, the one holding the fewest cards; not taken within
    ``offer_s``, the card is offered to another."""

    enabled: bool = False
    priorities: list[str] = Field(default_factory=lambda: ["P0", "P1"])
    offer_s: float = Field(30.0, gt=0, description="seconds to take an offered card before it moves on")
    groups: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "投诉组": ["complaint", "after_sales"],
            "订单组": ["order", "logistics", "payment"],
        },
        description="skill group -> intents; a card whose intent is in no group goes to anyone",
    )
    operators: dict[str, list[str]] = Field(
        default_factory=dict, description="operator name -> skill groups (not listed: every group)"
    )


class OutboundSettings(_Section):
    kind: str = Field(
        "auto", pattern="^(auto|ws|http|none)$", description="auto: ws relay if running, else http, else none"
    )
    http_url: str = Field("", description="POST replies here as JSON (kind http/auto)")
    http_token: str = Field("", description="bearer token for http_url")
    http_timeout_s: float = Field(5.0, gt=0)
    rate_per_s: float = Field(0.5, gt=0, description="replies per second per room (token bucket refill)")
    burst: int = Field(3, ge=1, description="token bucket size: replies sent back to back")
    max_attempts: int = Field(4, ge=1, description="delivery attempts before giving up")
    backoff_initial_s: float = Field(1.0, gt=0)
    backoff_max_s: float = Field(15.0, gt=0)
    queue_size: int = Field(
        200, ge=1, description="pending replies per room; beyond it a reply gives up at once"
    )


class AlertSettings(_Section):
    """Alerts compare the current window with the room's own baseline (the median of the previous windows over
    ``baseline_s``), fire on a real rise and clear when the room calms down (hysteresis)."""

    window_s: float = Field(30.0, gt=0, description="sliding window the alerts look at")
    baseline_s: float = Field(600.0, gt=0, description="history the room's baseline is taken from")
    rise_factor: float = Field(3.0, ge=1, description="a count this many times the baseline raises an alert")
    clear_factor: float = Field(1.5, ge=1, description="…and the alert clears below this many times")
    negative_share: float = Field(
        0.35, gt=0, le=1, description="negative share that raises 负面激增 while there is no baseline yet"
    )
    negative_rise: float = Field(
        0.08,
        gt=0,
        le=1,
        description="rise of the negative share over the baseline share that raises 负面激增",
    )
    negative_ratio: float = Field(
        1.5, ge=1, description="…when the share is also this many times the baseline"
    )
    negative_min_comments: int = Field(20, ge=1)
    complaint_count: int = Field(
        10, ge=1, description="never a 投诉潮 below this many complaints in the window"
    )
    spam_count: int = Field(30, ge=1, description="never a 刷屏 alert below this many spam in the window")
    ingest_ok_states: list[str] = Field(
        default_factory=lambda: ["running", "connected", "finished"],
        description="source states that are fine",
    )


class ConsoleSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535, description="serve: console port (demo uses demo.port)")
    users: list[ConsoleUser] = Field(
        default_factory=list, description="empty: one token per role, printed at start"
    )
    cookie_name: str = "livecs_token"
    cookie_secure: bool = Field(False, description="set the Secure flag (behind HTTPS)")
    session_ttl_s: float = Field(
        12 * 3600, gt=0, description="a login session (the cookie's id) expires after this; logout revokes it"
    )
    login_max_failures: int = Field(
        10, ge=1, description="wrong tokens from one address within login_failure_window_s before a lockout"
    )
    login_failure_window_s: float = Field(60.0, gt=0)
    login_lockout_s: float = Field(300.0, gt=0, description="how long a locked-out address is refused (429)")
    results_stage: str = Field("console", description="bus stage name; give each console process its own")
    read_count: int = Field(1000, ge=1, description="results read from the bus at once")
    read_block_ms: int = Field(100, ge=1)
    queue_visible: int = Field(50, ge=1, description="cards pushed to a console; the rest are counted")
    queue_max_items: int = Field(
        5000, ge=10, description="open items kept per room (oldest low priority evicted)"
    )
    members_shown: int = Field(12, ge=1, description="members of a cluster sent with its card")
    members_kept: int = Field(200, ge=1, description="members of a cluster kept in memory")
    queue_priorities: list[str] = Field(
        default_factory=lambda: ["P0", "P1", "P2", "mod"],
        description="priorities that make a card (P3 only counts)",
    )
    cluster_priorities: list[str] = Field(
        default_factory=lambda: ["P1", "P2"],
        description="question priorities grouped by cluster id into one card (P0, complaints: a card each)",
    )
    cluster_reply_mentions: int = Field(
        0, ge=0, le=20, description="reply to all: @-mention up to this many askers (0 = a general answer)"
    )
    cluster_ids_kept: int = Field(
        5000, ge=1, description="member comment ids a cluster card keeps (a reply to all is recorded on each)"
    )
    sla_s: dict[str, float | None] = Field(
        default_factory=dict,
        description="seconds to first action per priority; empty = the triage configuration's priority.sla_s",
    )
    recent_done: int = Field(30, ge=1, description="handled cards kept to show delivery status")
    max_push_per_s: float = Field(
        40.0, gt=0, le=100, description="at most this many websocket messages a second per client"
    )
    push_coalesce_ms: float = Field(
        5.0, ge=0, le=1000, description="a changed card is pushed this long after it changed (others join it)"
    )
    panel_push_per_s: float = Field(
        10.0, gt=0, le=100, description="live panel, room switcher and streamer view: updates a second"
    )
    stats_window_s: float = Field(60.0, gt=0, description="live panel window (comments/min, intent mix…)")
    response_samples: int = Field(500, ge=1, description="recent first-action delays for the median")
    streamer_clusters: int = Field(5, ge=1, le=10)
    streamer_window_s: float = Field(180.0, gt=0, description="how far back 'hottest' looks")
    upload_max_bytes: int = Field(5_000_000, ge=1024)
    ws_heartbeat_s: float = Field(20.0, gt=0)
    ws_send_timeout_s: float = Field(5.0, gt=0, description="a client slower than this is dropped")
    outbound: OutboundSettings = Field(default_factory=OutboundSettings)
    tickets: TicketSettings = Field(default_factory=TicketSettings)  # 工单 due times
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    assign: AssignSettings = Field(default_factory=AssignSettings)


class Settings(_Section):
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    bus: BusSettings = Field(default_factory=BusSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    ws: WsSourceSettings = Field(default_factory=WsSourceSettings)
    demo: DemoSettings = Field(default_factory=DemoSettings)
    bilibili: BilibiliSettings = Field(default_factory=BilibiliSettings)
    douyin: DouyinSettings = Field(default_factory=DouyinSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    scripts: ScriptsSettings = Field(default_factory=ScriptsSettings)
    triage: TriageSettings = Field(default_factory=TriageSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    redis_url: str | None = Field(None, description="Redis Streams bus; None = in-process")


def env_overrides(
    environ: Mapping[str, str], prefix: str = ENV_PREFIX, sections: Collection[str] | None = None
) -> dict[str, Any]:
    """``<prefix><SECTION>__<KEY>[__<KEY>…]=value`` variables as a nested dict (values parsed as YAML).

    Only names whose first part is in ``sections`` (when given) are taken, so other ``LIVECS_`` variables
    (``LIVECS_CONFIG``, ``LIVECS_SHARED``, test switches) are no settings.
    """
    out: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith(prefix) or key == ENV_PREFIX + "CONFIG":
            continue
        path = [part.lower() for part in key[len(prefix) :].split("__")]
        if not all(path) or (sections is not None and path[0] not in sections):
            continue
        try:
            value = yaml.safe_load(raw) if raw != "" else ""
        except yaml.YAMLError:
            value = raw
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[path[-1]] = value
    return out


def _renamed_env(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with the variables of the old per-file rule renamed to the tree's, with a warning:
    ``LIVECS_TRIAGE_CLUSTER__WINDOW_S`` → ``LIVECS_TRIAGE__CLUSTER__WINDOW_S`` (same for ``SCRIPTS``)."""
    out = dict(environ)
    for key in environ:
        for section in _OLD_ENV_PREFIXES:
            old = f"{ENV_PREFIX}{section}_"
            if key.startswith(old) and not key.startswith(old + "_") and "__" in key:
                new = f"{ENV_PREFIX}{section}__{key[len(old) :]}"
                log.warning("%s is the old name of %s; please rename it", key, new)
                out.setdefault(new, environ[key])
    return out


def deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``over`` into ``base`` in place (nested mappings merged, everything else replaced)."""
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(base.get(k), dict):
            deep_merge(base[k], v)
        else:
            base[k] = v
    return base


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    return loaded or {}


def _is_path_field(field: Any) -> bool:
    extra = field.json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("path"))


def _submodel(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def resolve_paths(data: Any, model: type[BaseModel], base: Path) -> None:
    """Make the relative paths in ``data`` (raw values for ``model``) absolute against ``base``, in place."""
    if not isinstance(data, dict):
        return
    for name, field in model.model_fields.items():
        value = data.get(name)
        if value is None:
            continue
        if _is_path_field(field):
            if isinstance(value, str):
                data[name] = _absolute(value, base)
            elif isinstance(value, list):
                data[name] = [_absolute(v, base) if isinstance(v, str) else v for v in value]
        elif (sub := _submodel(field.annotation)) is not None:
            resolve_paths(value, sub, base)


def _absolute(value: str, base: Path) -> str:
    return os.path.normpath(base / Path(value).expanduser()) if value else value


def _read_sections(cfg_path: Path) -> dict[str, Any]:
    """The file's sections, each with its ``include`` file merged under its own keys, paths made absolute."""
    data = _read_yaml(cfg_path)
    base = cfg_path.resolve().parent
    for name, section in data.items():
        field = Settings.model_fields.get(name)
        model = _submodel(field.annotation) if field is not None else None
        if not isinstance(section, dict) or model is None:
            continue
        include = section.pop(INCLUDE_KEY, None)
        resolve_paths(section, model, base)
        if include is None:
            continue
        if not isinstance(include, str) or not include:
            raise ConfigError(f"{cfg_path}: {name}.{INCLUDE_KEY} must be a file name")
        inc_path = base / include
        if not inc_path.exists():
            raise ConfigError(f"{cfg_path}: {name}.{INCLUDE_KEY}: no such file {inc_path}")
        included = _read_yaml(inc_path)
        resolve_paths(included, model, inc_path.resolve().parent)
        data[name] = deep_merge(included, section)
    return data


def load_settings(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """The settings tree: the YAML file (if present) and the files its sections include, then the
    ``LIVECS_<SECTION>__<KEY>`` overrides, validated. Raises :class:`ConfigError` naming the key."""
    env = _renamed_env(os.environ if environ is None else environ)
    cfg_path = Path(path or env.get(ENV_PREFIX + "CONFIG") or DEFAULT_CONFIG)
    data: dict[str, Any] = {}
    if cfg_path.exists():
        data = _read_sections(cfg_path)
    elif path is not None:
        raise ConfigError(f"{cfg_path}: no such configuration file")
    overrides = env_overrides(env, ENV_PREFIX, Settings.model_fields)
    resolve_paths(overrides, Settings, Path.cwd())
    deep_merge(data, overrides)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        lines = [f"{cfg_path}: invalid configuration"]
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            var = ENV_PREFIX + "__".join(str(p) for p in err["loc"]).upper()
            lines.append(f"  {loc} (env {var}): {err['msg']} (got {err.get('input')!r})")
        raise ConfigError("\n".join(lines)) from None
