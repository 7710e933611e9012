"""``kktctl``: the till admin's CLI. Human-readable output by default, ``--json`` for scripts.

Operations that need the KKT go through the adapter's HTTP API (the adapter is the port's only owner);
receipt listings read the buffer directly, so they work even when the adapter is down.
``kktctl sync`` is the systemd timer's oneshot: it delivers from the buffer itself (HTTP to the OFD and
Odoo; it never touches the KKT) under the host lock shared with the adapter.
``kktctl backup`` (kkt-backup.timer) and ``kktctl restore`` work on the buffer file (``backup.py``);
restore refuses while the adapter answers. ``kktctl drain`` is the UPS shutdown step: it asks the adapter to
drain and, when the adapter is unreachable, checkpoints the buffer file itself (and exits 3).
Exit codes: 0 success, 1 the operation failed, 2 usage error, 3 adapter unreachable, 4 a sync is already
running (another runner holds the host lock: not an error for a timer).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from kkt_adapter import config as config_mod
from kkt_adapter.buffer.storage import StorageFull

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_BUSY = 0, 1, 2, 3, 4
#: Problem codes of kkt-proxy (the till's nginx) meaning "no adapter behind me": the adapter is unreachable.
PROXY_UNREACHABLE = {"adapter_unavailable", "adapter_timeout"}


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_FAILED, payload: Any = None):
        super().__init__(message)
        self.code = code
        self.payload = payload


class Api:
    """Minimal client of the adapter's HTTP API."""

    def __init__(self, base: str, token: str, timeout: float):
        self.base = base.rstrip("/")
        self.token = token
        self.timeout = timeout

    def call(self, method: str, path: str, admin: bool = False, timeout: float | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if admin and self.token else {}
        wait = timeout or self.timeout
        try:
            resp = requests.request(method, self.base + path, headers=headers, timeout=wait)
        except requests.Timeout:
            raise CliError(
                f"adapter at {self.base} did not answer within {wait:g} s", EXIT_UNREACHABLE
            ) from None
        except requests.ConnectionError:
            raise CliError(
                f"adapter unreachable at {self.base}: connection refused or host down "
                "(is kkt-adapter.service running? is --url right?)",
                EXIT_UNREACHABLE,
            ) from None
        except requests.RequestException as exc:
            raise CliError(
                f"adapter unreachable at {self.base}: {type(exc).__name__}", EXIT_UNREACHABLE
            ) from None
        mimetype = resp.headers.get("Content-Type", "").split(";")[0].strip()
        try:
            body = resp.json() if mimetype in ("application/json", "application/problem+json") else None
        except ValueError:
            body = None
        if body is None:
            # Whatever answers here is not the KKT adapter (a web page, a proxy error, another service).
            raise CliError(
                f"{self.base} is not a KKT adapter: {method} {path} answered HTTP {resp.status_code} "
                f"with {mimetype or 'no content type'}, not JSON",
                EXIT_UNREACHABLE,
            )
        code = body.get("code") if isinstance(body, dict) else None
        if code in PROXY_UNREACHABLE:
            # kkt-proxy (nginx on the till) answered for an adapter that is down or hung behind it.
            raise CliError(
                f"adapter behind {self.base} is not answering ({resp.status_code} {code}: "
                f"{body.get('detail', '')}); is kkt-adapter.service running?",
                EXIT_UNREACHABLE,
            )
        if resp.status_code >= 400:
            detail = body.get("detail") or body.get("title") if isinstance(body, dict) else body
            raise CliError(f"{resp.status_code} {body.get('code', '')}: {detail}", EXIT_FAILED, body)
        return body


def _base_url(cfg: config_mod.Config) -> str:
    host, _, port = cfg.http.listen.rpartition(":")
    if host in ("0.0.0.0", "::", "[::]"):  # noqa: S104 - mapping a wildcard bind to loopback
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def _open_buffer(cfg: config_mod.Config) -> None:
    from kkt_adapter.buffer import db

    if not Path(cfg.buffer.path).exists():
        raise CliError(f"no buffer database at {cfg.buffer.path}")
    db.open_database(
        cfg.buffer.path,
        cfg.buffer.busy_timeout_ms,
        cfg.buffer.wal_autocheckpoint_pages,
        cfg.buffer.reserve_bytes,
    )


# --- commands ---------------------------------------------------------------------------------------


def cmd_status(args, cfg, api) -> tuple[Any, str]:
    result: dict[str, Any] = {}
    try:
        result["health"] = api.call("GET", "/v1/health")
    except CliError as exc:
        if exc.payload is None and exc.code != EXIT_UNREACHABLE:
            raise
        result["health"] = exc.payload or {"status": "unreachable", "detail": str(exc)}
    _open_buffer(cfg)
    from kkt_adapter.buffer import journal

    st = journal.buffer_status(cfg.buffer.capacity)
    result["buffer"] = st.__dict__
    h = result["health"]
    kkt = h.get("components", {}).get("kkt", {})
    lines = [
        f"till        {cfg.pos_id}",
        f"adapter     {h.get('status')}"
        + (f" ({h.get('detail')})" if h.get("detail") else "")
        + (f": {'; '.join(h['reasons'])}" if h.get("reasons") else ""),
        f"kkt         {kkt.get('status', 'unknown')}" + (f" - {kkt['detail']}" if kkt.get("detail") else ""),
        f"buffer      {st.current_queued}/{st.total_capacity} awaiting delivery ({st.percent_full:.0f}%)",
        f"not printed {st.not_printed}   rejected {st.rejected}   dlq {st.dlq_size}",
    ]
    if h.get("status") == "unreachable":
        raise CliError("\n".join(lines), EXIT_UNREACHABLE, result)
    return result, "\n".join(lines)


def _receipt_line(r: dict) -> str:
    fd = f"FD {r['fd_number']}" if r.get("fd_number") else "-"
    return (
        f"{r['receipt_id']}  {r['kind']:<10} {r['total']:>12}  {r['fiscal_status']:<9} {r['status']:<8} {fd}"
    )


def cmd_receipts_list(args, cfg, api) -> tuple[Any, str]:
    _open_buffer(cfg)
    from kkt_adapter.buffer import journal
    from kkt_adapter.web.receipts import receipt_view

    rows = [receipt_view(r) for r in journal.list_receipts(args.limit, args.fiscal_status, args.status)]
    header = f"{'receipt id':<36}  {'kind':<10} {'total':>12}  {'fiscal':<9} {'delivery':<8} fd"
    return rows, "\n".join([header, *(_receipt_line(r) for r in rows)]) if rows else "no receipts"


def cmd_receipts_show(args, cfg, api) -> tuple[Any, str]:
    _open_buffer(cfg)
    from kkt_adapter.buffer import journal
    from kkt_adapter.web.receipts import document_view, receipt_view

    receipt = journal.get_receipt(args.receipt_id)
    if receipt is None:
        raise CliError(f"no receipt {args.receipt_id}")
    view = receipt_view(receipt)
    view["document"] = document_view(receipt)
    view["events"] = [
        {"type": e.event_type, "hlc": e.hlc, "metadata": json.loads(e.metadata or "{}")}
        for e in journal.events_for(receipt.id)
    ]
    text = [f"{k:<16}{v}" for k, v in view.items() if k not in ("document", "events")]
    text.append("events:")
    text += [
        f"  {e['hlc']}  {e['type']:<24} {json.dumps(e['metadata'], ensure_ascii=False)}"
        for e in view["events"]
    ]
    return view, "\n".join(text)


def cmd_shift(args, cfg, api) -> tuple[Any, str]:
    body = api.call("POST", f"/v1/kkt/shift/{args.action}")
    verb = "opened" if args.action == "open" else "closed (Z report printed)"
    return body, f"shift {body['shift_number']} {verb}, FD {body['fd_number']}"


def cmd_x_report(args, cfg, api) -> tuple[Any, str]:
    body = api.call("POST", "/v1/kkt/report/x")
    return body, f"X report printed for shift {body['shift_number']}"


def cmd_fn_status(args, cfg, api) -> tuple[Any, str]:
    body = api.call("GET", "/v1/kkt/fn")
    return body, "\n".join(f"{k:<22}{v}" for k, v in body.items())


def cmd_reconcile(args, cfg, api) -> tuple[Any, str]:
    body = api.call("POST", "/v1/kkt/reconcile", admin=True)
    return body, f"reconciled; {body['printed']} waiting receipt(s) printed"


def cmd_sync(args, cfg, api) -> tuple[Any, str]:
    from kkt_adapter.sync.lock import SyncBusy
    from kkt_adapter.sync.runner import SyncRunner

    _open_buffer(cfg)
    try:
        report = SyncRunner(cfg).run().as_dict()
    except SyncBusy as exc:
        raise CliError(str(exc), EXIT_BUSY) from None
    lines = [f"sync {report['duration_seconds']:.2f} s, leases expired {report['leases_expired']}"]
    for target, t in report["targets"].items():
        extra = f" ({t['skipped']})" if t["skipped"] else ""
        lines.append(
            f"  {target:<5} delivered {t['delivered']}, retry later {t['retried']}, "
            f"dead-lettered {t['dead_lettered']}, breaker {t['breaker']}{extra}"
        )
    return report, "\n".join(lines)


def _dlq_view(entry) -> dict:
    from kkt_adapter.web.sync_api import dlq_view

    return dlq_view(entry)


def cmd_dlq_list(args, cfg, api) -> tuple[Any, str]:
    _open_buffer(cfg)
    from kkt_adapter.buffer import deliveries

    rows = [_dlq_view(e) for e in deliveries.dlq_list(include_resolved=args.all)]
    text = [f"{r['dlq_id']}  receipt {r['receipt_id'] or '-'}  {r['reason']}" for r in rows]
    return rows, "\n".join(text) if rows else "DLQ is empty"


def cmd_dlq_act(args, cfg, api) -> tuple[Any, str]:
    _open_buffer(cfg)
    from kkt_adapter.buffer import deliveries

    try:
        if args.action == "retry":
            entry = deliveries.dlq_retry(args.dlq_id, args.by)
        else:
            entry = deliveries.dlq_resolve(args.dlq_id, args.by, args.note or "")
    except deliveries.DlqError as exc:
        raise CliError(str(exc)) from None
    verb = "queued for delivery again" if args.action == "retry" else "resolved"
    return _dlq_view(entry), f"DLQ entry {entry.id} {verb}"


def _size(n: int) -> str:
    if n >= 1048576:
        return f"{n / 1048576:.1f} MiB"
    return f"{n / 1024:.0f} KiB" if n >= 1024 else f"{n} B"


def cmd_backup(args, cfg, api) -> tuple[Any, str]:
    from kkt_adapter import backup

    keep_days = cfg.backup.keep_days if args.keep_days is None else args.keep_days
    if keep_days < 1:
        raise CliError("--keep-days must be at least 1 (the newest snapshot is always kept)", EXIT_USAGE)
    try:
        report = backup.take_snapshot(
            cfg.buffer.path,
            args.dest or cfg.backup.dir,
            keep_days,
            busy_timeout_ms=cfg.buffer.busy_timeout_ms,
        )
    except backup.BackupError as exc:
        raise CliError(f"backup failed: {exc}") from None
    ck = report.checkpoint
    lines = [
        f"snapshot    {report.snapshot} ({_size(report.size_bytes)}, {report.duration_seconds:.2f} s)",
        f"sha256      {report.sha256}",
        f"checkpoint  WAL {_size(ck['wal_bytes_before'])} -> {_size(ck['wal_bytes_after'])}"
        + (" (busy: a reader kept part of the WAL; the snapshot is consistent anyway)" if ck["busy"] else ""),
        f"integrity   {report.integrity}",
        f"retention   {report.keep_days} days: removed {len(report.removed)}, kept {report.kept}",
    ]
    return report.as_dict(), "\n".join(lines)


def _adapter_answers(api: Api) -> bool:
    try:
        api.call("GET", "/v1/health/live", timeout=2.0)
    except CliError as exc:
        return exc.code != EXIT_UNREACHABLE
    return True


def cmd_restore(args, cfg, api) -> tuple[Any, str]:
    from kkt_adapter import backup

    try:
        if args.check:
            report = backup.verify_snapshot(args.snapshot)
            text = (
                f"snapshot    {report.snapshot} ({_size(report.size_bytes)})\n"
                f"sha256      {report.sha256} (matches)\nintegrity   {report.integrity}\n"
                f"schema      v{report.schema_version}\n"
                f"last FD     {report.last_fd_seen} (FN {report.fn_number})\nnothing changed (--check)"
            )
            return report.as_dict(), text
        if _adapter_answers(api):
            raise CliError(
                f"the adapter answers at {api.base}: stop it first "
                "(systemctl stop kkt-adapter kkt-sync.timer kkt-backup.timer)"
            )
        report = backup.restore(
            args.snapshot,
            cfg.buffer.path,
            force=args.force,
            lock_path=cfg.sync.lock_path,
            busy_timeout_ms=cfg.buffer.busy_timeout_ms,
        )
    except backup.BackupError as exc:
        raise CliError(f"restore refused: {exc}") from None
    lines = [
        f"restored    {report.snapshot}",
        f"into        {report.restored_to} (schema v{report.schema_version}, sha256 {report.sha256[:16]}…)",
        f"previous    {report.previous_state}"
        + (f", kept as {report.before_restore}" if report.before_restore else ""),
        f"last FD     {report.last_fd_seen} (FN {report.fn_number}): compare with `kktctl fn-status` once "
        "the adapter runs; a larger FD on the FN means documents signed after the snapshot",
        "next        systemctl start kkt-adapter; kktctl status",
    ]
    return report.as_dict(), "\n".join(lines)


def cmd_drain(args, cfg, api) -> tuple[Any, str]:
    from kkt_adapter import backup

    try:
        body = api.call("POST", "/v1/kkt/drain", admin=True)
    except CliError as exc:
        if exc.code != EXIT_UNREACHABLE:
            raise
        # Nobody to drain: make the file itself ready for the power cut.
        try:
            ck = backup.checkpoint_file(cfg.buffer.path, "TRUNCATE", cfg.buffer.busy_timeout_ms)
        except backup.BackupError as err:
            raise CliError(f"{exc}; direct checkpoint failed too: {err}", EXIT_UNREACHABLE) from None
        payload = {"status": "adapter_unreachable", "checkpoint": ck}
        raise CliError(
            f"{exc}; buffer checkpointed directly (busy {ck['busy']}, WAL {ck['wal_bytes_before']} -> "
            f"{ck['wal_bytes_after']} bytes)",
            EXIT_UNREACHABLE,
            payload,
        ) from None
    lines = [f"drain: {body['status']} in {body['duration_seconds']:.2f} s"]
    for step in body["steps"]:
        extra = {k: v for k, v in step.items() if k not in ("step", "report")}
        lines.append(f"  {step['step']:<20} " + ", ".join(f"{k} {v}" for k, v in extra.items()))
    if body["status"] != "drained":
        raise CliError("\n".join(lines), EXIT_FAILED, body)
    return body, "\n".join(lines)


def _url(text: str) -> str:
    parsed = urlsplit(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) URL (e.g. http://127.0.0.1:8765)")
    return text


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 1 <= value <= MAX_LIST_LIMIT:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_LIST_LIMIT}, got {value}")
    return value


#: Rows one `receipts list` may show (the admin API's own bound on `limit`).
MAX_LIST_LIMIT = 1000


def build_parser() -> argparse.ArgumentParser:
    # `--json` is accepted before and after the subcommand; SUPPRESS keeps a later default from
    # overwriting an earlier `--json`.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
    )
    p = argparse.ArgumentParser(prog="kktctl", description="OpticsERP till administration")
    p.add_argument(
        "--config", help="config file (default: $KKT_ADAPTER_CONFIG or /etc/kkt-adapter/config.toml)"
    )
    p.add_argument("--url", type=_url, help="adapter base URL (default: from [http] listen)")
    p.add_argument("--token", help="admin token (default: from [admin] token)")
    p.add_argument(
        "--timeout", type=float, default=60.0, help="HTTP timeout, seconds (Z reports take a while)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("status", parents=[common], help="adapter, KKT and buffer state").set_defaults(
        func=cmd_status
    )
    rc = sub.add_parser("receipts", parents=[common], help="journaled receipts").add_subparsers(
        dest="sub", required=True, metavar="ACTION"
    )
    ls = rc.add_parser("list", parents=[common], help="newest first")
    ls.add_argument("--limit", type=_limit, default=20, help=f"rows, 1..{MAX_LIST_LIMIT} (default 20)")
    ls.add_argument("--fiscal-status", choices=["accepted", "printing", "printed", "rejected"])
    ls.add_argument("--status", choices=["pending", "syncing", "synced", "failed"])
    ls.set_defaults(func=cmd_receipts_list)
    show = rc.add_parser("show", parents=[common], help="one receipt with its events")
    show.add_argument("receipt_id")
    show.set_defaults(func=cmd_receipts_show)
    sh = sub.add_parser("shift", parents=[common], help="open or close (Z report) the shift")
    sh.add_argument("action", choices=["open", "close"])
    sh.set_defaults(func=cmd_shift)
    sub.add_parser("x-report", parents=[common], help="print an X report").set_defaults(func=cmd_x_report)
    sub.add_parser("fn-status", parents=[common], help="FN state, last FD, expiry, OFD queue").set_defaults(
        func=cmd_fn_status
    )
    sub.add_parser(
        "reconcile", parents=[common], help="settle receipts in doubt with the FN, print waiting ones"
    ).set_defaults(func=cmd_reconcile)
    sub.add_parser(
        "sync", parents=[common], help="deliver the backlog to the OFD and Odoo now (the timer's job)"
    ).set_defaults(func=cmd_sync)
    bk = sub.add_parser(
        "backup", parents=[common], help="snapshot the buffer (online backup API), checksum, retention"
    )
    bk.add_argument("--dest", help="snapshot directory (default: [backup] dir)")
    bk.add_argument(
        "--keep-days", type=int, help="delete snapshots older than this (default: [backup] keep_days)"
    )
    bk.set_defaults(func=cmd_backup)
    rs = sub.add_parser(
        "restore", parents=[common], help="put a verified snapshot in place of the buffer (adapter stopped)"
    )
    rs.add_argument("snapshot", help="path of a buffer-*.db snapshot (its .sha256 must be beside it)")
    rs.add_argument("--check", action="store_true", help="only verify checksum and integrity; change nothing")
    rs.add_argument(
        "--force",
        action="store_true",
        help="replace a healthy buffer that holds receipts (they are kept aside)",
    )
    rs.set_defaults(func=cmd_restore)
    sub.add_parser(
        "drain",
        parents=[common],
        help="UPS shutdown: refuse new receipts, finish the one in flight, sync, checkpoint",
    ).set_defaults(func=cmd_drain)
    dlq = sub.add_parser("dlq", parents=[common], help="dead letter queue").add_subparsers(
        dest="sub", required=True, metavar="ACTION"
    )
    dl = dlq.add_parser("list", parents=[common], help="open entries (--all: resolved too)")
    dl.add_argument("--all", action="store_true")
    dl.set_defaults(func=cmd_dlq_list)
    for action, text in (
        ("retry", "deliver the entry's document again"),
        ("resolve", "close it as settled by hand"),
    ):
        act = dlq.add_parser(action, parents=[common], help=text)
        act.add_argument("dlq_id")
        act.add_argument("--by", default=os.environ.get("SUDO_USER") or os.environ.get("USER") or "kktctl")
        if action == "resolve":
            act.add_argument("--note", help="how it was settled")
        act.set_defaults(func=cmd_dlq_act, action=action)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.config and not Path(args.config).is_file():
        print(f"kktctl: configuration error: {args.config}: no such file", file=sys.stderr)
        return EXIT_USAGE
    try:
        cfg = config_mod.load(args.config)
    except config_mod.ConfigError as exc:
        print(f"kktctl: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    api = Api(
        args.url or _base_url(cfg), args.token if args.token is not None else cfg.admin.token, args.timeout
    )
    try:
        payload, text = args.func(args, cfg, api)
    except CliError as exc:
        if args.json and exc.payload is not None:
            print(json.dumps(exc.payload, ensure_ascii=False, indent=2, default=str))
        print(f"kktctl: {exc}", file=sys.stderr)
        return exc.code
    except StorageFull as exc:
        print(f"kktctl: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(payload, ensure_ascii=False, indent=2, default=str) if args.json else text)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
