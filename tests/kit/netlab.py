"""Real network faults for tests: a network namespace reached over veth pairs, with outages and packet loss.

``NetLab`` (root only) creates a namespace ``optics-<random>`` and two veth pairs to it from the root
namespace, each a /30 out of 10.213.0.0/16 chosen clear of every existing route and address:

* the *data link* (``.host_ip`` <-> ``.ns_ip``): what the code under test uses; every fault applies here;
* the *management link* (``.mgmt_host_ip`` <-> ``.mgmt_ns_ip``): never faulted, so a test can read a
  stand-in's ``/control/`` API while the data link is down or lossy.

Faults, all real (the kernel drops the packets, nothing is mocked):

* ``link_down()`` / ``link_up()`` / ``flap()``: the namespace end of the data link goes down, so the host
  end loses carrier and packets to the namespace vanish: new connections time out, open ones stall and
  resume on ``link_up()`` if TCP has not given up. A packet sent just after the cable was pulled may wait
  in the kernel's ARP queue and still arrive after ``link_up()``, as on real Ethernet. (The host end is
  never taken down: its /30 route would go away and the traffic would leak to the default route.)
* ``set_loss(percent)``: nftables rules in the namespace drop that share of the packets crossing the data
  link, in each direction (``numgen random mod 100 < percent drop``); 0 removes them.
* ``set_netem(delay_ms, loss_pct)``: netem on both data-link ends when the kernel has it
  (``netem_available()``, detected once per process); otherwise :class:`NetemUnavailable`. Where it is
  missing, latency is injected by the stand-ins themselves (``delay_ms`` of their ``/control/mode``).

``close()`` (also on ``with`` exit and at interpreter exit) kills what runs in the namespace, deletes the
veths and the namespace, and removes the nftables table with it. Namespaces left by a process that died
(kill -9) are removed by the next ``NetLab`` through their owner marker in ``/run/optics-netlab``.
Nothing outside the namespace and the veths created here is touched.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import ipaddress
import json
import logging
import os
import random
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from kkt_adapter.osutil import pid_alive
from tests.kit.standins.common import StandinProcess

log = logging.getLogger(__name__)

POOL = ipaddress.ip_network("10.213.0.0/16")
RUN_DIR = Path("/run/optics-netlab")  # owner markers and the allocation lock
NS_PREFIX = "optics-"
NFT_TABLE = "optics_netlab"
DEFAULT_PORTS = {"ofd": 8080, "odoo": 8069}
CMD_TIMEOUT = 10.0  # seconds for one ip/nft/tc command


class NetLabError(RuntimeError):
    """The lab cannot be built or a fault cannot be applied (the message says why)."""


class NetemUnavailable(NetLabError):
    """This kernel has no netem qdisc (CONFIG_NET_SCH_NETEM); use set_loss() and stand-in delays."""


def unavailable_reason() -> str | None:
    """Why NetLab cannot run here (for pytest.skip), or None when it can."""
    if os.geteuid() != 0:
        return "NetLab needs root (network namespaces and veth pairs)"
    for tool, package in (("ip", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None:
            return f"NetLab needs '{tool}' (apt-get install {package})"
    return None


def _cmd(args: Sequence[str], *, check: bool = True, timeout: float = CMD_TIMEOUT, **kw: Any) -> str:
    """Run a system command; NetLabError with its stderr when it fails and ``check`` is set."""
    try:
        done = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False, **kw)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NetLabError(f"{' '.join(args)}: {exc}") from exc
    if check and done.returncode != 0:
        raise NetLabError(f"{' '.join(args)}: {done.stderr.strip() or f'exit {done.returncode}'}")
    return done.stdout


@contextlib.contextmanager
def _allocation_lock() -> Iterator[None]:
    """Serialise address allocation between NetLabs of concurrent processes (pytest-xdist)."""
    RUN_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(RUN_DIR / "alloc.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _used_networks() -> list[ipaddress.IPv4Network]:
    """Every IPv4 route (all tables) and address of the root namespace, except the default route."""
    used = []
    for route in json.loads(_cmd(["ip", "-j", "-4", "route", "show", "table", "all"]) or "[]"):
        dst = route.get("dst", "default")
        if dst != "default":
            with contextlib.suppress(ValueError):
                used.append(ipaddress.ip_network(dst, strict=False))
    for link in json.loads(_cmd(["ip", "-j", "-4", "addr"]) or "[]"):
        for info in link.get("addr_info", []):
            used.append(ipaddress.ip_network(f"{info['local']}/{info['prefixlen']}", strict=False))
    return [net for net in used if net.version == 4 and net.prefixlen > 0]


def _pick_block(used: list[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    """A free /29 of the pool (two /30s: data link and management link), picked at random."""
    blocks = list(POOL.subnets(new_prefix=29))
    random.shuffle(blocks)
    for block in blocks:
        if not any(block.overlaps(net) for net in used):
            return block
    raise NetLabError(f"no free /29 left in {POOL}")


class Flap:
    """A background link flapper: ``stop()`` ends it (the link is left up); ``cycles`` counts downs."""

    def __init__(self, lab: NetLab, period_s: float, duration_s: float | None, down_ratio: float):
        self.lab = lab
        self.period_s = period_s
        self.duration_s = duration_s
        self.down_ratio = down_ratio
        self.cycles = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"netlab-flap-{lab.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        end = None if self.duration_s is None else time.monotonic() + self.duration_s
        try:
            while not self._stop.is_set() and (end is None or time.monotonic() < end):
                self.lab.link_down()
                self.cycles += 1
                self._stop.wait(self.period_s * self.down_ratio)
                self.lab.link_up()
                self._stop.wait(self.period_s * (1 - self.down_ratio))
        except NetLabError as exc:  # the lab was closed under us
            log.warning("link flapping stopped: %s", exc)
        finally:
            with contextlib.suppress(NetLabError):
                self.lab.link_up()

    @property
    def active(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the flapping to end on its own; True when it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class NetLab:
    """A network namespace with a faultable data link and a clean management link (see the module doc)."""

    _netem: ClassVar[bool | None] = None

    def __init__(self, workdir: Path | None = None):
        reason = unavailable_reason()
        if reason:
            raise NetLabError(reason)
        tag = secrets.token_hex(4)
        self.name = f"{NS_PREFIX}{tag}"
        self.host_if, self.ns_if = f"od{tag}h", f"od{tag}n"  # data link
        self.mgmt_host_if, self.mgmt_ns_if = f"om{tag}h", f"om{tag}n"  # management link
        self._own_workdir = workdir is None  # stand-in logs; a directory made here goes away at close()
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"netlab-{tag}-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.block: ipaddress.IPv4Network | None = None
        self.standins: list[StandinProcess] = []
        self.flaps: list[Flap] = []
        self.loss_percent = 0
        self._open = False
        self._lock = threading.RLock()

    # ---- addresses -------------------------------------------------------------------------------

    def _addr(self, index: int) -> str:
        if self.block is None:
            raise NetLabError("the lab is not open")
        return str(self.block.network_address + index)

    @property
    def host_ip(self) -> str:
        """Root-namespace end of the data link."""
        return self._addr(1)

    @property
    def ns_ip(self) -> str:
        """Namespace end of the data link: what the code under test connects to."""
        return self._addr(2)

    @property
    def mgmt_host_ip(self) -> str:
        return self._addr(5)

    @property
    def mgmt_ns_ip(self) -> str:
        """Namespace end of the management link (never faulted)."""
        return self._addr(6)

    # ---- life cycle ------------------------------------------------------------------------------

    def __enter__(self) -> NetLab:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> NetLab:
        """Create the namespace and both links. On any failure everything created is removed again."""
        if self._open:
            return self
        self.cleanup_stale()
        atexit.register(self.close)
        self._open = True
        try:
            with _allocation_lock():
                self.block = _pick_block(_used_networks())
                self._write_marker()
                _cmd(["ip", "netns", "add", self.name])
                for host_if, ns_if, host, peer in (
                    (self.host_if, self.ns_if, 1, 2),
                    (self.mgmt_host_if, self.mgmt_ns_if, 5, 6),
                ):
                    _cmd(f"ip link add {host_if} type veth peer name {ns_if} netns {self.name}".split())
                    _cmd(["ip", "addr", "add", f"{self._addr(host)}/30", "dev", host_if])
                    _cmd(["ip", "link", "set", host_if, "up"])
                    _cmd(["ip", "-n", self.name, "addr", "add", f"{self._addr(peer)}/30", "dev", ns_if])
                    _cmd(["ip", "-n", self.name, "link", "set", ns_if, "up"])
            _cmd(["ip", "-n", self.name, "link", "set", "lo", "up"])
        except BaseException:
            self.close()
            raise
        log.info("netlab %s: data %s <-> %s", self.name, self.host_ip, self.ns_ip)
        return self

    def _write_marker(self) -> None:
        marker = {"owner_pid": os.getpid(), "veths": [self.host_if, self.mgmt_host_if]}
        (RUN_DIR / f"{self.name}.json").write_text(json.dumps(marker), encoding="utf-8")

    def close(self) -> None:
        """Remove everything this lab created; safe to call twice and after a failed open()."""
        with self._lock:
            if not self._open:
                return
            self._open = False
        for flap in self.flaps:
            flap.stop()
        for standin in self.standins:
            with contextlib.suppress(Exception):
                standin.stop(timeout=3)
        _destroy(self.name, [self.host_if, self.mgmt_host_if])
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        atexit.unregister(self.close)

    @classmethod
    def cleanup_stale(cls) -> list[str]:
        """Remove namespaces of NetLabs whose owner process is gone; returns their names."""
        removed = []
        for marker in RUN_DIR.glob(f"{NS_PREFIX}*.json") if RUN_DIR.is_dir() else []:
            try:
                data = json.loads(marker.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if pid_alive(int(data.get("owner_pid", 0))):
                continue
            _destroy(marker.stem, list(data.get("veths", [])))
            removed.append(marker.stem)
        if removed:
            log.warning("removed namespaces left by dead test processes: %s", ", ".join(removed))
        return removed

    # ---- running things inside -------------------------------------------------------------------

    def run(self, cmd: Sequence[str], **popen_kwargs: Any) -> subprocess.Popen[Any]:
        """Start a command inside the namespace (killed at close() if still running)."""
        return subprocess.Popen(["ip", "netns", "exec", self.name, *cmd], **popen_kwargs)

    def spawn_standin(
        self,
        kind: str,
        port: int | None = None,
        *,
        state_dir: Path | None = None,
        args: Sequence[str] = (),
    ) -> StandinProcess:
        """Start the ``ofd`` or ``odoo`` stand-in inside the namespace and wait for its READY line.

        It listens on every namespace address; ``.url`` goes over the data link (give it to the code
        under test), ``.control`` over the management link (works during faults). Stopped at close().
        """
        standin = StandinProcess.start(
            kind,
            listen=("0.0.0.0", DEFAULT_PORTS.get(kind, 0) if port is None else port),
            state_dir=state_dir,
            args=args,
            prefix=("ip", "netns", "exec", self.name),
            url_host=self.ns_ip,
            control_host=self.mgmt_ns_ip,
            log_path=self.workdir / f"{kind}-{len(self.standins)}.log",
        )
        self.standins.append(standin)
        return standin

    # ---- faults ----------------------------------------------------------------------------------

    def link_down(self) -> None:
        """Pull the cable: the namespace end of the data link goes down (timeouts, not refusals)."""
        _cmd(["ip", "-n", self.name, "link", "set", self.ns_if, "down"])

    def link_up(self) -> None:
        _cmd(["ip", "-n", self.name, "link", "set", self.ns_if, "up"])

    def flap(self, period_s: float, duration_s: float | None = None, *, down_ratio: float = 0.5) -> Flap:
        """Toggle the data link in the background: down for ``period_s * down_ratio``, then up for the
        rest of the period, for ``duration_s`` seconds (None = until ``stop()``); it ends with the link up.
        """
        if period_s <= 0 or not 0 < down_ratio < 1:
            raise ValueError("period_s must be > 0 and down_ratio within (0, 1)")
        flap = Flap(self, period_s, duration_s, down_ratio)
        self.flaps.append(flap)
        return flap

    def set_loss(self, percent: int) -> None:
        """Drop ``percent`` % of the packets crossing the data link in each direction (0 = no loss)."""
        if not isinstance(percent, int) or not 0 <= percent <= 100:
            raise ValueError("percent must be an integer 0..100")
        script = f"table inet {NFT_TABLE}\ndelete table inet {NFT_TABLE}\n"
        if percent:
            match = "" if percent == 100 else f"numgen random mod 100 < {percent} "  # "< 100" is refused
            match += "counter "
            script += (
                f"table inet {NFT_TABLE} {{\n"
                f"  chain input {{ type filter hook input priority 0; policy accept;\n"
                f'    iifname "{self.ns_if}" {match}drop\n  }}\n'
                f"  chain output {{ type filter hook output priority 0; policy accept;\n"
                f'    oifname "{self.ns_if}" {match}drop\n  }}\n'
                f"}}\n"
            )
        _cmd(["ip", "netns", "exec", self.name, "nft", "-f", "-"], input=script)
        self.loss_percent = percent

    def dropped_packets(self) -> int:
        """Packets the set_loss() rules have dropped since they were last set (0 without loss)."""
        if not self.loss_percent:
            return 0
        out = _cmd(["ip", "netns", "exec", self.name, "nft", "-j", "list", "table", "inet", NFT_TABLE])
        return sum(
            expr["counter"]["packets"]
            for item in json.loads(out)["nftables"]
            for expr in item.get("rule", {}).get("expr", [])
            if "counter" in expr
        )

    @classmethod
    def netem_available(cls) -> bool:
        """Whether this kernel has the netem qdisc (probed once in a scratch namespace, then cached)."""
        if cls._netem is None:
            cls._netem = unavailable_reason() is None and shutil.which("tc") is not None and _probe_netem()
        return cls._netem

    def set_netem(self, delay_ms: int, loss_pct: float = 0.0) -> None:
        """netem on both ends of the data link (each direction gets the delay and the loss; 0, 0 removes).

        Raises NetemUnavailable when the kernel lacks netem (then use set_loss() and stand-in delays).
        """
        if not self.netem_available():
            raise NetemUnavailable(
                "this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM is not set): use set_loss() for "
                "packet loss and the stand-ins' delay_ms for latency"
            )
        for prefix, dev in ((["tc"], self.host_if), (["ip", "netns", "exec", self.name, "tc"], self.ns_if)):
            if delay_ms <= 0 and loss_pct <= 0:
                _cmd([*prefix, "qdisc", "del", "dev", dev, "root"], check=False)
            else:
                _cmd(
                    [*prefix, "qdisc", "replace", "dev", dev, "root", "netem", "delay", f"{delay_ms}ms"]
                    + (["loss", f"{loss_pct}%"] if loss_pct > 0 else [])
                )


def _probe_netem() -> bool:
    name = f"{NS_PREFIX}probe-{secrets.token_hex(3)}"
    try:
        _cmd(["ip", "netns", "add", name])
        done = subprocess.run(
            ["ip", "netns", "exec", name, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"],
            capture_output=True,
            timeout=CMD_TIMEOUT,
            check=False,
        )
        return done.returncode == 0
    except (NetLabError, OSError, subprocess.TimeoutExpired):
        return False
    finally:
        _cmd(["ip", "netns", "del", name], check=False)


def _destroy(name: str, host_veths: list[str]) -> None:
    """Kill what runs in namespace ``name``, delete its veths (both ends go together) and the namespace."""
    pids = [int(p) for p in _cmd(["ip", "netns", "pids", name], check=False).split() if p.isdigit()]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 3
        while pids and time.monotonic() < deadline:
            pids = [pid for pid in pids if pid_alive(pid) and not _reap(pid)]
            time.sleep(0.02)
        if not pids:
            break
    for veth in host_veths:
        _cmd(["ip", "link", "del", veth], check=False)
    _cmd(["ip", "netns", "del", name], check=False)
    (RUN_DIR / f"{name}.json").unlink(missing_ok=True)


def _reap(pid: int) -> bool:
    """Collect a child of ours that has exited (a zombie still answers kill(pid, 0)); True if reaped."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return done == pid
