"""``kkt-emulator``: run the emulated Shtrih-M KKT on a pty, or drive a running one via its control socket.

    kkt-emulator [run] --state-dir DIR [--link PATH] [--baud 115200] [--sign-delay 0] [--print-delay 0]
                    [--fn-number N]
    kkt-emulator ctl --state-dir DIR fault NAME [--count N] [--command FF45] [--seconds S] [--after-print]
                                           [--code 0x33]
    kkt-emulator ctl --state-dir DIR journal|cash-journal|state|stats|faults|clear
    kkt-emulator ctl --state-dir DIR advance --seconds N
    kkt-emulator ctl --state-dir DIR paper on|off
    kkt-emulator ctl --state-dir DIR silent on|off
    kkt-emulator ctl --state-dir DIR ofd-confirm [FD ...]
    kkt-emulator ctl --state-dir DIR set-expiry YYYY-MM-DD

``run`` prints ``READY <link path>`` on stdout once the pty and the control socket accept connections,
and exits cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from datetime import date
from pathlib import Path

from kkt_emulator.control import SOCKET_NAME, ControlServer, EmulatorControl
from kkt_emulator.device import Device
from kkt_emulator.faults import NAMES, Faults
from kkt_emulator.fn import FiscalStorage
from kkt_emulator.link import PtyServer
from kkt_emulator.store import StateStore

DEFAULT_LINK_NAME = "ttyKKT"  # symlink created in the state dir when --link is not given


def _run_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", required=True, type=Path, help="FN state, journal and control socket")
    parser.add_argument(
        "--link", type=Path, help=f"symlink to the pty slave (default: STATE_DIR/{DEFAULT_LINK_NAME})"
    )
    parser.add_argument("--baud", type=int, default=115200, help="simulated line speed, 0 = instant")
    parser.add_argument(
        "--sign-delay", type=float, default=0.0, help="seconds E0/40/41/FF45/50/51 take before their answer"
    )
    parser.add_argument(
        "--print-delay",
        type=float,
        default=0.0,
        help="seconds the printer then works (submode 5; state-changing commands refused with 0x50)",
    )
    parser.add_argument("--fn-number", help="16-digit FN number used when the state dir is new")
    parser.add_argument("--fn-expires", type=date.fromisoformat, help="FN expiry date for a new state dir")
    parser.add_argument("--log-level", default="WARNING")


def _ctl_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", required=True, type=Path)
    sub = parser.add_subparsers(dest="action", required=True)
    fault = sub.add_parser("fault", help="arm a fault")
    fault.add_argument("name", choices=sorted(NAMES))
    fault.add_argument("--count", type=int, default=1, help="times it fires; 0 = until cleared")
    fault.add_argument("--command", help="command code it targets, e.g. FF45 (default: any)")
    fault.add_argument("--seconds", type=float, default=0.0, help="slow delay / power loss duration")
    fault.add_argument("--after-print", action="store_true", help="power_loss on FF45 after fiscalizing")
    fault.add_argument("--code", type=lambda v: int(v, 0), default=0, help="refuse: device error code (0x33)")
    fault.add_argument("--off", action="store_true", help="silent / paper_out: switch the fault off")
    for name in ("journal", "state", "stats", "faults", "clear"):
        sub.add_parser(name)
    sub.add_parser("cash-journal", help="cash in / cash out documents, one JSON line each")
    advance = sub.add_parser("advance", help="move the FN clock forward")
    advance.add_argument("--seconds", type=float, required=True)
    for name in ("paper", "silent"):
        switch = sub.add_parser(name)
        switch.add_argument("state", choices=("on", "off"))
    confirm = sub.add_parser("ofd-confirm", help="the OFD confirms these FDs (all when none given)")
    confirm.add_argument("fds", nargs="*", type=int)
    expiry = sub.add_parser("set-expiry")
    expiry.add_argument("date", type=date.fromisoformat)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    state_dir: Path = args.state_dir
    link = args.link or state_dir / DEFAULT_LINK_NAME
    store = StateStore(state_dir)
    fn = FiscalStorage(store, fn_number=args.fn_number, expires_on=args.fn_expires)
    device = Device(fn, print_seconds=args.print_delay)
    server = PtyServer(device, link, Faults(), baud=args.baud, sign_delay=args.sign_delay)
    control = ControlServer(server, state_dir / SOCKET_NAME)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    control.start()
    print(f"READY {link}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        control.stop()
        server.stop()
        store.close()
    return 0


def ctl(args: argparse.Namespace) -> int:
    client = EmulatorControl.for_state_dir(args.state_dir)
    action = args.action
    if action == "fault":
        if args.name in ("silent", "paper_out"):
            result = client.request("fault", name=args.name, on=not args.off)
        else:
            result = client.fault(
                args.name,
                count=args.count,
                command=args.command,
                seconds=args.seconds,
                after_print=args.after_print,
                code=args.code,
            )
    elif action == "advance":
        result = client.advance(args.seconds)
    elif action in ("paper", "silent"):
        result = client.request(action, on=args.state == "on")
    elif action == "ofd-confirm":
        result = client.ofd_confirm(args.fds or None)
    elif action == "set-expiry":
        result = client.set_fn_expiry(args.date)
    elif action == "cash-journal":
        result = client.cash_journal()
    else:
        result = client.request(action)
    if action in ("journal", "cash-journal"):
        for record in result:
            print(json.dumps(record, ensure_ascii=False, sort_keys=True))
    else:
        print(json.dumps(result, ensure_ascii=False, indent=1, sort_keys=True))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("run", "ctl", "-h", "--help"):
        argv.insert(0, "run")  # `kkt-emulator --state-dir ...` means run
    parser = argparse.ArgumentParser(prog="kkt-emulator", description="Shtrih-M KKT emulator on a pty")
    sub = parser.add_subparsers(dest="mode", required=True)
    _run_parser(sub.add_parser("run", help="serve the emulated KKT on a pty"))
    _ctl_parser(sub.add_parser("ctl", help="control a running emulator"))
    args = parser.parse_args(argv)
    try:
        return run(args) if args.mode == "run" else ctl(args)
    except (ConnectionError, FileNotFoundError) as exc:
        print(f"kkt-emulator: no running emulator at {args.state_dir / SOCKET_NAME}: {exc}", file=sys.stderr)
        return 1
    except RuntimeError as exc:  # the emulator refused the control request
        print(f"kkt-emulator: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
