"""Adapter configuration: documented defaults, overlaid by a TOML file, overlaid by environment variables.

File: ``$KKT_ADAPTER_CONFIG`` or ``/etc/kkt-adapter/config.toml`` (a missing file means "all defaults"),
then every ``*.toml`` in ``config.d/`` beside it, in lexical order (drop-ins: the till's identity written at
first boot, per-till secrets), each overlaying the ones before.
Environment: ``KKT_ADAPTER_<SECTION>__<KEY>`` (e.g. ``KKT_ADAPTER_KKT__PORT=/dev/pts/4``); top-level keys
use ``KKT_ADAPTER_<KEY>`` (e.g. ``KKT_ADAPTER_POS_ID``). Values from the environment are parsed as the type
of the default they replace; a list is comma-separated (``5,3,1``) or a JSON array (``["https://a.example"]``).
Unknown keys are an error: a typo must not silently fall back to a default.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

DEFAULT_PATH = "/etc/kkt-adapter/config.toml"
#: Drop-in folder name, beside the main file.
DROPIN_DIR = "config.d"
#: A pos_id is a metric label, a file-name part and a header value: keep it to a safe alphabet.
POS_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
ENV_PREFIX = "KKT_ADAPTER_"
#: SQLite's default page size (the buffer never changes it): the unit of wal_autocheckpoint.
SQLITE_PAGE_BYTES = 4096
#: Upper bound of what one receipt writes to the WAL from acceptance to "printed" (measured ~10 pages).
RECEIPT_WRITES_BYTES = 64 * 1024
#: Variables with the prefix that are not settings: the config path itself and the gunicorn.conf path.
RESERVED_ENV = {ENV_PREFIX + "CONFIG", ENV_PREFIX + "GUNICORN_CONF"}
#: A web origin as a browser sends it in ``Origin``: lower-case scheme and host (a DNS name, an IPv4 address
#: or a bracketed IPv6 address), an optional port; no path, no trailing slash, no wildcard.
ORIGIN_RE = re.compile(
    r"(?P<scheme>https?)://(?P<host>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
    r"|\[[0-9a-f:.]+\])(?::(?P<port>[0-9]{1,5}))?"
)
DEFAULT_PORTS = {"http": "80", "https": "443"}


class ConfigError(ValueError):
    """The configuration file or an override is invalid."""


@dataclass(frozen=True)
class HttpConfig:
    # Loopback by default: the store LAN is opened explicitly per till by Ansible (and nftables). The
    # address clients (POS, kktctl) use: on a till the kkt-proxy (nginx) serves it, see ``socket``.
    listen: str = "127.0.0.1:8765"
    # Unix socket gunicorn binds *instead of* ``listen`` when a buffering reverse proxy serves ``listen``
    # (on a till: kkt-proxy.service, nginx, /run/kkt-adapter/api.sock). nginx holds slow or stalled
    # clients itself and hands gunicorn only complete requests, so they cannot occupy its threads, and the
    # watchdog's self-check goes through this socket, never through the proxy. Empty: gunicorn serves
    # ``listen`` itself (development, ``make demo``, most tests).
    socket: str = ""
    # Second HOST:PORT serving only /metrics and /v1/health* (for Prometheus), so the firewall can let the
    # monitoring server scrape without reaching the receipt API. Empty: no second listener (/metrics is
    # served on ``listen`` only). Must use a different port than ``listen``.
    metrics_listen: str = ""
    # Largest accepted request body; a 100-line receipt is ~20 KiB, so 64 KiB leaves room and stops abuse.
    max_body_bytes: int = 65536
    # How long a receipt request waits for the KKT while another receipt is printing; after that it is
    # answered "buffered" and printed by the background printer. Bounds how long a jammed KKT can hold
    # request threads (the watchdog's self-check needs a free one).
    kkt_wait_seconds: float = 10.0
    # Web origins (scheme://host[:port], exactly as browsers send them) whose pages may call the cashier
    # routes cross-origin (CORS, web/cors.py): the central Odoo the POS runs in, e.g. https://erp.example.ru.
    # Empty: no cross-origin access at all — browsers refuse to call the adapter from any page, and a
    # browser's shift / receipt / cash request carrying an Origin is refused (403 cors_origin_denied).
    # Admin routes never answer cross-origin, whatever this says.
    cors_origins: tuple[str, ...] = ()


@dataclass(frozen=True)
class BufferConfig:
    path: str = "/var/lib/kkt-adapter/buffer.db"
    # Owner's plan: 200 receipts awaiting delivery; at 100 % new receipts get 503 buffer_full.
    capacity: int = 200
    # Writers from other processes (sync, backup) hold the lock for milliseconds; 5 s absorbs any burst.
    busy_timeout_ms: int = 5000
    # Checkpoint the WAL every 100 pages (~400 KiB, owner's plan): short recovery, small backups.
    wal_autocheckpoint_pages: int = 100
    # Reserve (ballast) file beside the database, released when the disk fills so the receipt in flight
    # and a WAL checkpoint can still be written (buffer/storage.py). 2 MiB = one checkpoint of 100 pages
    # (400 KiB copied into the main file, plus the WAL it came from) and a receipt's writes (~40 KiB),
    # with twice that to spare. 0 turns the protection off (tests of other things on tiny disks only).
    reserve_bytes: int = 2 * 1024 * 1024


@dataclass(frozen=True)
class KktConfig:
    # Stable name created by the udev rule of the till_adapter role.
    port: str = "/dev/kkt0"
    # Shtrih-M factory default and the speed the benchmark is specified at.
    baudrate: int = 115200
    # Operator password sent with every command; 30 = system administrator on Shtrih-M.
    password: int = 30
    # Open a shift automatically when a receipt arrives and none is open (a cashier never has to).
    auto_open_shift: bool = True
    # Link timeouts (seconds): ENQ answer, ACK after a frame, answer frame (printing takes time).
    enq_timeout: float = 0.2
    ack_timeout: float = 0.5
    answer_timeout: float = 10.0
    # A Shtrih-M answers a fiscal command once the FN has recorded the document and prints it afterwards;
    # the next printing command meanwhile is refused (0x50) and sent again when the printer is done, for up
    # to this long. 10 s covers the longest document (a busy day's Z report); longer is a jammed printer.
    print_wait_seconds: float = 10.0
    # ENQ / frame attempts before the device is declared unreachable.
    attempts: int = 5
    # How often buffered (not yet printed) receipts are retried and the KKT state is refreshed.
    retry_interval_seconds: float = 5.0


@dataclass(frozen=True)
class ReceiptConfig:
    # Tag 1055 bitmask value used when a request does not say: 1 = general taxation system (OSN).
    taxation_system: int = 1
    # Lines per receipt; the largest optics order (frame, 2 lenses, coatings, services) is far below.
    max_items: int = 100
    # Sanity cap per receipt in kopecks (10 million roubles): anything above is a typo or an attack.
    max_total: int = 1_000_000_000
    # A receipt printed this long after it was accepted (the KKT was down) is fiscalized as a correction
    # receipt (FFD 1173 = 0, own initiative; basis date = the sale's date), as 54-FZ requires for a
    # settlement not fiscalized at the time of payment. Also applies when the sale's day has passed.
    late_after_seconds: float = 600.0


@dataclass(frozen=True)
class OfdConfig:
    # OFD gateway base URL (JSON over HTTP); empty = OFD delivery disabled (documents wait in the buffer).
    url: str = ""
    # One request may carry up to this many FN documents; the OFD answers each one separately.
    batch_size: int = 50
    # Seconds to wait for the OFD; a timeout is a transient failure (retried, never a DLQ entry).
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class OdooConfig:
    # Central Odoo base URL (optics_pos_ru54fz controllers); empty = Odoo delivery and heartbeat disabled.
    url: str = ""
    # Bearer token this till presents to Odoo (ansible-vault on the till).
    token: str = ""
    batch_size: int = 50
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class SyncConfig:
    # Host lock shared by every sync runner (timer, API, CLI, post-print attempt) on this till.
    lock_path: str = "/run/kkt-adapter/sync.lock"
    # How long a runner's lease on a batch is recorded for (lease_until, for an admin reading the buffer). A
    # runner killed mid-batch leaves rows leased; the next runner to take the host lock reclaims them at
    # once (runners lease only under that lock), so this never delays a delivery.
    lease_seconds: float = 120.0
    # Exponential backoff with full jitter between delivery attempts of one document: base * 2^attempts,
    # capped; a fresh document is tried at once.
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 300.0
    # pybreaker: 5 consecutive failures open the circuit; after 60 s one trial call (half-open).
    breaker_fail_max: int = 5
    breaker_reset_seconds: float = 60.0
    # How often the adapter applies OFD acknowledgments and captures new FN documents.
    relay_interval_seconds: float = 5.0


@dataclass(frozen=True)
class HeartbeatConfig:
    # Owner's plan: a heartbeat to Odoo every 30 s.
    interval_seconds: float = 30.0
    # Hysteresis: this many failures in a row before "offline", successes in a row before "online".
    offline_after: int = 3
    online_after: int = 2
    # A heartbeat slower than this marks the link "degraded" (as does an open circuit breaker).
    degraded_latency_ms: float = 2000.0


@dataclass(frozen=True)
class FnWatchConfig:
    # How often the FN backlog (OFD exchange status, unconfirmed count, expiry) is read from the KKT.
    interval_seconds: float = 300.0
    # The FN blocks when its oldest unconfirmed document is this old (54-FZ art. 4.1).
    block_after_days: int = 30
    # Warn this many days before the block (owner's plan: alert 3-5 days ahead).
    warn_days: tuple[int, ...] = (5, 3, 1)


@dataclass(frozen=True)
class AdminConfig:
    # Bearer token of the admin endpoints (receipt listings, reconcile, sync, DLQ); empty = they refuse
    # everyone. Cashier operations (receipt, shift, X/Z) are protected by the till's firewall instead.
    token: str = ""


@dataclass(frozen=True)
class BackupConfig:
    # Where `kktctl backup` (kkt-backup.timer, daily) writes snapshots: inside the StateDirectory, so the
    # kkt user owns them and ProtectSystem=strict leaves them writable. Same disk as the buffer: this guards
    # against a damaged file, a bad upgrade or a slip of the hand, not against losing the disk.
    dir: str = "/var/lib/kkt-adapter/backups"
    # Snapshots older than this many days are deleted (the newest is always kept). Owner's plan: 7 days.
    keep_days: int = 7


@dataclass(frozen=True)
class DrainConfig:
    # UPS drain (`POST /v1/kkt/drain`, `kktctl drain`): how long to wait for receipts already being printed
    # to finish. Same as gunicorn's graceful_timeout; a Shtrih-M prints a receipt in 1-3 s.
    in_flight_timeout_seconds: float = 30.0
    # Bound of the last delivery attempt before poweroff; an unfinished one resumes after the next boot.
    sync_timeout_seconds: float = 10.0


@dataclass(frozen=True)
class LogConfig:
    # Log level of gunicorn and the adapter; stderr goes to journald on the till.
    level: str = "info"


@dataclass(frozen=True)
class Config:
    # Till identity, the pos_id label of every metric and the value every request must carry.
    pos_id: str = "till-01"
    http: HttpConfig = field(default_factory=HttpConfig)
    buffer: BufferConfig = field(default_factory=BufferConfig)
    kkt: KktConfig = field(default_factory=KktConfig)
    receipt: ReceiptConfig = field(default_factory=ReceiptConfig)
    admin: AdminConfig = field(default_factory=AdminConfig)
    log: LogConfig = field(default_factory=LogConfig)
    ofd: OfdConfig = field(default_factory=OfdConfig)
    odoo: OdooConfig = field(default_factory=OdooConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    heartbeat: HeartbeatConfig = field(default_factory=HeartbeatConfig)
    fn_watch: FnWatchConfig = field(default_factory=FnWatchConfig)
    backup: BackupConfig = field(default_factory=BackupConfig)
    drain: DrainConfig = field(default_factory=DrainConfig)


def _coerce(raw: Any, default: Any, where: str, from_text: bool) -> Any:
    """``raw`` as the type of ``default``. Only text sources (environment variables, comma lists) are
    parsed from strings; a TOML file has real types, so ``capacity = "200"`` is an error, not 200."""
    kind = type(default)
    if kind is tuple:
        items = _text_list(raw, where) if isinstance(raw, str) else raw
        if not isinstance(items, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {raw!r}")
        sample = default[0] if default else ""
        return tuple(_coerce(v, sample, f"{where}[{i}]", from_text) for i, v in enumerate(items))
    if isinstance(raw, str) and kind is not str and not from_text:
        raise ConfigError(f"{where}: expected {kind.__name__}, got the string {raw!r} (drop the quotes)")
    if isinstance(raw, str) and kind is not str:
        text = raw.strip()
        try:
            if kind is bool:
                if text.lower() in ("1", "true", "yes", "on"):
                    return True
                if text.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError(text)
            return kind(text)
        except ValueError:
            raise ConfigError(f"{where}: expected {kind.__name__}, got {raw!r}") from None
    if kind is float and isinstance(raw, int) and not isinstance(raw, bool):
        return float(raw)
    if not isinstance(raw, kind) or (kind is int and isinstance(raw, bool)):
        raise ConfigError(f"{where}: expected {kind.__name__}, got {raw!r}")
    return raw


def _text_list(raw: str, where: str) -> list[Any]:
    """A list written as text: a JSON array (``["a", "b"]``) or comma-separated values (``a,b``)."""
    text = raw.strip()
    if not text.startswith("["):
        return [v.strip() for v in text.split(",") if v.strip()]
    try:
        items = json.loads(text)
    except ValueError:
        raise ConfigError(f"{where}: not a JSON array: {raw!r}") from None
    if not isinstance(items, list):
        raise ConfigError(f"{where}: expected a list, got {raw!r}")
    return items


def _overlay(obj: Any, values: dict[str, Any], where: str, from_text: bool = False) -> Any:
    known = {f.name: f for f in fields(obj)}
    changes = {}
    for key, raw in values.items():
        if key not in known:
            raise ConfigError(f"{where}{key}: unknown setting")
        current = getattr(obj, key)
        if is_dataclass(current):
            if not isinstance(raw, dict):
                raise ConfigError(f"{where}{key}: expected a table")
            changes[key] = _overlay(current, raw, f"{where}{key}.", from_text)
        else:
            changes[key] = _coerce(raw, current, f"{where}{key}", from_text)
    return replace(obj, **changes)


def _overlay_environ(cfg: Config, environ: dict[str, str]) -> Config:
    """Apply ``KKT_ADAPTER_<SECTION>__<KEY>`` variables one by one, so an error names its variable."""
    for name, value in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or name in RESERVED_ENV:
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        tree: dict[str, Any] = {path[-1]: value}
        for part in reversed(path[:-1]):
            tree = {part: tree}
        try:
            cfg = _overlay(cfg, tree, "", from_text=True)
        except ConfigError as exc:
            raise ConfigError(f"environment variable {name}: {exc}") from None
    return cfg


def _validate(cfg: Config) -> Config:
    if not POS_ID_RE.fullmatch(cfg.pos_id):
        raise ConfigError(
            f"pos_id: must be 1..64 characters of A-Z a-z 0-9 . _ -, got {cfg.pos_id!r}"
            " (a till image takes it at first boot: kkt-firstboot writes config.d/10-identity.toml)"
        )
    if cfg.buffer.capacity < 1:
        raise ConfigError("buffer.capacity: must be at least 1")
    reserve_floor = 2 * cfg.buffer.wal_autocheckpoint_pages * SQLITE_PAGE_BYTES + RECEIPT_WRITES_BYTES
    if cfg.buffer.reserve_bytes and cfg.buffer.reserve_bytes < reserve_floor:
        raise ConfigError(
            f"buffer.reserve_bytes: must be 0 or at least {reserve_floor} (one WAL checkpoint of "
            f"{cfg.buffer.wal_autocheckpoint_pages} pages and a receipt's writes), "
            f"got {cfg.buffer.reserve_bytes}"
        )
    if cfg.kkt.password < 0 or cfg.kkt.password > 0xFFFFFFFF:
        raise ConfigError("kkt.password: must fit in 4 bytes")
    if cfg.backup.keep_days < 1:
        raise ConfigError("backup.keep_days: must be at least 1 (the newest snapshot is always kept)")
    port = _listen_port(cfg.http.listen, "http.listen")
    if cfg.http.socket and not cfg.http.socket.startswith("/"):
        raise ConfigError(f"http.socket: expected an absolute path, got {cfg.http.socket!r}")
    if cfg.http.metrics_listen and _listen_port(cfg.http.metrics_listen, "http.metrics_listen") == port:
        raise ConfigError("http.metrics_listen: must use a different port than http.listen")
    for origin in cfg.http.cors_origins:
        _check_origin(origin)
    return cfg


def _check_origin(origin: str) -> None:
    """An ``[http] cors_origins`` entry must be compared with the browser's ``Origin`` as is: refuse any
    other spelling rather than never match it."""
    hint = "write it as browsers send it: scheme://host[:port], e.g. 'https://erp.example.ru'"
    match = ORIGIN_RE.fullmatch(origin)
    if match is None:
        raise ConfigError(
            f"http.cors_origins: {origin!r} is not an origin (http or https, lower case, no path, no "
            f"trailing slash, no wildcard); {hint}"
        )
    port = match["port"]
    if port is not None and not 0 < int(port) < 65536:
        raise ConfigError(f"http.cors_origins: {origin!r} has no valid port; {hint}")
    if port == DEFAULT_PORTS[match["scheme"]] or (port is not None and port.startswith("0")):
        raise ConfigError(
            f"http.cors_origins: {origin!r} spells the port as browsers never do (drop a default port "
            f"and leading zeros); {hint}"
        )


def _listen_port(value: str, where: str) -> int:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{where}: expected HOST:PORT, got {value!r}")
    return int(port)


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from None


def files(path: str | None = None, environ: dict[str, str] | None = None) -> list[Path]:
    """The files that make up the configuration, in the order they are applied (existing ones only)."""
    environ = dict(os.environ if environ is None else environ)
    main = Path(path or environ.get(ENV_PREFIX + "CONFIG") or DEFAULT_PATH)
    found = [main] if main.exists() else []
    dropins = main.parent / DROPIN_DIR
    if dropins.is_dir():
        found += sorted(p for p in dropins.glob("*.toml") if p.is_file())
    return found


def load(path: str | None = None, environ: dict[str, str] | None = None, **overrides: Any) -> Config:
    """Build the configuration: defaults < TOML file < config.d/*.toml < environment < keyword overrides."""
    environ = dict(os.environ if environ is None else environ)
    cfg = Config()
    for file in files(path, environ):
        cfg = _overlay(cfg, _read_toml(file), f"{file}: ")
    cfg = _overlay_environ(cfg, environ)
    cfg = _overlay(cfg, overrides, "", from_text=True)  # programmatic overrides may be text (tests, CLI)
    return _validate(cfg)
