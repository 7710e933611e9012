"""NetLab: real network faults between the root namespace and a stand-in running in its own namespace.

Needs root, iproute2 and nftables (tests/setup/install-deps.sh installs them); skipped otherwise. The
faults are real: the kernel drops the packets (link down, nftables loss), nothing is mocked.
"""

from __future__ import annotations

import base64
import ipaddress
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

from kkt_adapter.shtrih import codec
from tests.kit import netlab
from tests.kit.netlab import NetemUnavailable, NetLab, NetLabError
from tests.kit.standins.common import StandinProcess

FN = "9999078900004321"
needs_lab = pytest.mark.skipif(
    netlab.unavailable_reason() is not None, reason=str(netlab.unavailable_reason())
)


def document(fd: int) -> dict:
    raw = codec.tlv_stlv(
        2,
        [
            codec.encode_tlv(1040, codec.encode_uint(fd, 4)),
            codec.tlv_string(1041, FN),
            codec.encode_tlv(1077, codec.encode_uint(fd * 7, 4)),
        ],
    )
    return {"fn_number": FN, "fd": fd, "doc_type": 2, "message": base64.b64encode(raw).decode()}


def send(ofd: StandinProcess, fd: int, timeout: float = 2.0, session: requests.Session | None = None) -> str:
    resp = (session or requests).post(
        ofd.url + "/v1/documents", json={"documents": [document(fd)]}, timeout=timeout
    )
    resp.raise_for_status()
    return resp.json()["results"][0]["status"]


def namespaces() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def lab() -> Iterator[NetLab]:
    with NetLab() as lab:
        yield lab


@pytest.fixture(scope="module")
def ofd(lab: NetLab) -> StandinProcess:
    return lab.spawn_standin("ofd")


@pytest.fixture(autouse=True)
def _healthy(request: pytest.FixtureRequest) -> Iterator[None]:
    if "ofd" in request.fixturenames:
        request.getfixturevalue("ofd").control.reset()
    yield
    if "lab" in request.fixturenames:
        lab = request.getfixturevalue("lab")
        lab.set_loss(0)
        lab.link_up()


# ---- no root needed ------------------------------------------------------------------------------


def test_addresses_avoid_every_existing_route() -> None:
    pool = list(netlab.POOL.subnets(new_prefix=29))
    free = pool[1234]
    used = [net for net in netlab.POOL.subnets(new_prefix=22) if not net.overlaps(free)]
    used += [n for n in free.supernet(new_prefix=22).subnets(new_prefix=29) if n != free]
    assert netlab._pick_block(used) == free
    with pytest.raises(NetLabError, match="no free /29"):
        netlab._pick_block([ipaddress.ip_network("10.0.0.0/8")])


def test_without_root_the_error_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netlab.os, "geteuid", lambda: 1000)
    with pytest.raises(NetLabError, match="needs root"):
        NetLab()


# ---- real faults ---------------------------------------------------------------------------------


@needs_lab
def test_standin_is_reached_through_the_veth(lab: NetLab, ofd: StandinProcess) -> None:
    assert ofd.url == f"http://{lab.ns_ip}:8080"
    assert ipaddress.ip_address(lab.ns_ip) in netlab.POOL
    route = subprocess.run(["ip", "route", "get", lab.ns_ip], capture_output=True, text=True, check=True)
    assert f"dev {lab.host_if}" in route.stdout
    assert send(ofd, 1) == "accepted"
    assert ofd.control.stats()["unique_documents"] == 1


@needs_lab
def test_link_down_times_out_and_link_up_recovers(lab: NetLab, ofd: StandinProcess) -> None:
    lab.link_down()
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):  # ConnectTimeout is one
        send(ofd, 2, timeout=0.5)
    assert time.monotonic() - started < 2
    before = ofd.control.stats()["requests"]  # the management link stays up
    lab.link_up()
    assert before == 0  # the request sent while the link was down never arrived
    assert send(ofd, 2) == "accepted"
    assert ofd.control.stats()["requests"] == 1


@needs_lab
def test_flapping_link_delivers_with_retries(lab: NetLab, ofd: StandinProcess) -> None:
    flap = lab.flap(period_s=0.8, duration_s=1.6)  # down 0.4 s, up 0.4 s, twice
    delivered, failures = [], 0
    fd = 100
    deadline = time.monotonic() + 10
    while (flap.active or len(delivered) < 3) and time.monotonic() < deadline:
        try:
            delivered.append(send(ofd, fd, timeout=0.2))  # shorter than a down phase
            fd += 1
        except requests.RequestException:
            failures += 1
    assert flap.wait(2) and flap.cycles >= 2
    assert failures >= 1 and len(delivered) >= 3
    # A timed-out request may still have been served (answer lost): the retry of that FD says duplicate.
    assert set(delivered) <= {"accepted", "duplicate"}
    assert send(ofd, 999) == "accepted"  # the flapper leaves the link up


@needs_lab
def test_total_loss_times_out_then_clears(lab: NetLab, ofd: StandinProcess) -> None:
    lab.set_loss(100)
    with pytest.raises(requests.ConnectionError):
        send(ofd, 3, timeout=0.5)
    assert lab.dropped_packets() >= 1
    assert ofd.control.stats()["requests"] == 0  # answers over the management link; nothing arrived
    lab.set_loss(0)
    assert lab.dropped_packets() == 0
    assert send(ofd, 3) == "accepted"


@needs_lab
def test_partial_loss_lets_retried_requests_through(lab: NetLab, ofd: StandinProcess) -> None:
    lab.set_loss(30)
    ok = failed = 0
    session = requests.Session()
    deadline = time.monotonic() + 20  # 3 successes take ~3 s on average at 30 % loss each way
    fd = 200
    while ok < 3 and time.monotonic() < deadline:
        try:
            send(ofd, fd, timeout=1.0, session=session)
            ok += 1
            fd += 1
        except requests.RequestException:
            failed += 1
            session = requests.Session()  # a fresh connection, like the till's retry
    dropped = lab.dropped_packets()
    assert ok == 3, f"only {ok} of the requests got through ({failed} failed)"
    assert dropped >= 1, "30 % loss dropped nothing"


@needs_lab
def test_netem_is_used_only_where_the_kernel_has_it(lab: NetLab, ofd: StandinProcess) -> None:
    if not NetLab.netem_available():
        with pytest.raises(NetemUnavailable, match="CONFIG_NET_SCH_NETEM"):
            lab.set_netem(100, 1)
        return
    lab.set_netem(100)
    try:
        started = time.monotonic()
        send(ofd, 300, timeout=5)
        assert time.monotonic() - started >= 0.2  # 100 ms each way
    finally:
        lab.set_netem(0)


@needs_lab
def test_close_leaves_nothing_behind() -> None:
    lab = NetLab().open()
    standin = lab.spawn_standin("odoo", port=0)
    assert standin.control.stats()["requests"] == 0
    sleeper = lab.run(["sleep", "60"])
    name, host_if, pid = lab.name, lab.host_if, standin.proc.pid
    assert name in namespaces()
    lab.close()
    lab.close()  # idempotent
    assert name not in namespaces()
    links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True, check=True).stdout
    assert host_if not in links
    assert not (netlab.RUN_DIR / f"{name}.json").exists()
    assert not lab.workdir.exists()  # the stand-in logs of a lab without a workdir go too
    assert standin.proc.poll() is not None and sleeper.wait(5) is not None
    with pytest.raises(ProcessLookupError):
        netlab.os.kill(pid, 0)


@needs_lab
def test_namespace_of_a_killed_owner_is_removed_by_the_next_lab() -> None:
    script = (
        "import time; from tests.kit.netlab import NetLab; "
        "print(NetLab().open().name, flush=True); time.sleep(60)"
    )
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        name = owner.stdout.readline().strip()
        assert name.startswith("optics-") and name in namespaces()
    finally:
        owner.kill()  # kill -9: no atexit, no close()
        owner.wait()
        owner.stdout.close()
    assert name in NetLab.cleanup_stale()
    assert name not in namespaces()
