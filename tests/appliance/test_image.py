"""The till's disk image boots for real: build it (appliance/image/build.sh, reused when its inputs did not
change), give a copy an identity on the KKTCONF partition, boot it under qemu (TCG, UEFI firmware from
Debian's ovmf package, no KVM, no network) and read the serial console until the adapter has started;
then press the virtual power button and expect qemu to exit by itself (a real kernel poweroff).

What the console must show, in one boot: kkt-firstboot took the identity from KKTCONF (and copied a
config.d drop-in), the adapter reported READY (systemd prints "Started kkt-adapter.service" only after
READY=1 for a Type=notify unit), sshd generated host keys and started, and the serial getty greets with
the hostname from identity.toml. The boot's loader entry in the copy gets ``systemd.show_status=1
systemd.journald.forward_to_console=1`` so the journal reaches the serial console.

A second boot of a copy without identity.toml: kkt-firstboot fails with its message on the console, the
adapter refuses its configuration (empty pos_id) and never reports READY — a till without identity must
not sell — while sshd still starts for the engineer.

Figures printed (run with -s): image build time (or "reused"), image size, boot to adapter started and
poweroff time under TCG. Needs root and the host tools listed in docs/appliance-image.md; skips otherwise.
The roles' required image-wide variables get test values (IMAGE_VARS); further build.sh arguments (e.g.
``--playbook`` of a stand-in, more ``--vars``) come from KKT_IMAGE_BUILD_ARGS.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "appliance/image/build.sh"
OUT = ROOT / "build/image"
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS.fd")
TOOLS = ["debootstrap", "qemu-system-x86_64", "mcopy", "mtype", "mkfs.fat", "sfdisk", "mkfs.ext4", "debugfs"]
POS_ID = "store7-till3"
HOSTNAME = "store7-till3"
BOOT_TIMEOUT = 300  # seconds of TCG boot before giving up (measured: ~35 s on 2 cores)
POWEROFF_TIMEOUT = 120
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "building the image needs root (debootstrap, chroot, file ownership)"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return (
            f"missing host tools: {', '.join(missing)} "
            "(Debian: debootstrap qemu-system-x86 ovmf mtools dosfstools fdisk e2fsprogs)"
        )
    if not (OVMF_CODE.is_file() and OVMF_VARS.is_file()):
        return f"no UEFI firmware at {OVMF_CODE} (Debian package ovmf)"
    if not (ROOT / ".venv/bin/ansible-playbook").exists() and shutil.which("ansible-playbook") is None:
        return "ansible-playbook is not installed (pip install -r tests/appliance/requirements.txt)"
    return None


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or ""),
]


@dataclass
class Image:
    path: Path
    layout: dict[str, str]
    build_seconds: float
    reused: bool


def mtools(*args: str) -> str:
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=60, env=env, check=False)
    assert result.returncode == 0, f"{args}: {result.stderr}"
    return result.stdout


#: Variables the roles require even for an image (they end up in every till built from it): a test value.
IMAGE_VARS = "till_ups_monitor_password: image-test-only\n"


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    started = time.monotonic()
    image_vars = tmp_path_factory.mktemp("image-vars") / "vars.yml"
    image_vars.write_text(IMAGE_VARS)
    args = ["--vars", str(image_vars), *shlex.split(os.environ.get("KKT_IMAGE_BUILD_ARGS", ""))]
    result = subprocess.run(
        ["bash", str(BUILD), *args], capture_output=True, text=True, timeout=1800, check=False
    )
    assert result.returncode == 0, f"build.sh failed:\n{result.stderr[-4000:]}"
    seconds = time.monotonic() - started
    path = Path(result.stdout.strip().splitlines()[-1])
    layout: dict[str, str] = {}
    for line in (OUT / "opticserp-till.env").read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            layout[key] = value.strip('"')
    assert Path(layout["IMAGE"]) == path and path.is_file()
    print(f"\n{result.stderr.strip()}")
    return Image(path, layout, seconds, reused="up to date" in result.stderr)


def disk_copy(image: Image, tmp_path: Path, identity: bool) -> Path:
    """A copy of the image with a chatty console; with ``identity``, identity.toml and a config.d drop-in
    on its KKTCONF partition."""
    copy = tmp_path / "disk.img"
    subprocess.run(["cp", "--sparse=always", str(image.path), str(copy)], check=True, timeout=300)
    if identity:
        conf = f"{copy}@@{image.layout['CONF_OFFSET']}"
        toml = tmp_path / "identity.toml"
        toml.write_text(f'pos_id = "{POS_ID}"\nhostname = "{HOSTNAME}"\n')
        dropin = tmp_path / "20-test.toml"
        dropin.write_text('[log]\nlevel = "info"\n')
        mtools("mcopy", "-i", conf, str(toml), "::/identity.toml")
        mtools("mcopy", "-i", conf, str(dropin), "::/config.d/20-test.toml")
    esp = f"{copy}@@{image.layout['ESP_OFFSET']}"
    entry = mtools("mtype", "-i", esp, "::/loader/entries/opticserp.conf")
    assert f"root=PARTUUID={image.layout['ROOT_PARTUUID']}" in entry and "console=ttyS0" in entry
    entry = re.sub(
        r"^(options .*)$",
        r"\1 systemd.show_status=1 systemd.journald.forward_to_console=1",
        entry,
        flags=re.M,
    )
    patched = tmp_path / "opticserp.conf"
    patched.write_text(entry)
    mtools("mcopy", "-o", "-i", esp, str(patched), "::/loader/entries/opticserp.conf")
    return copy


class Console:
    """The serial console log of a running qemu, read as text without colour codes."""

    def __init__(self, path: Path, qemu: subprocess.Popen[bytes], monitor: Path):
        self.path, self.qemu, self.monitor = path, qemu, monitor
        self.started = time.monotonic()

    def text(self) -> str:
        raw = self.path.read_bytes() if self.path.exists() else b""
        return ANSI.sub("", raw.decode("utf-8", errors="replace")).replace("\r", "")

    def wait_for(self, pattern: str, timeout: float) -> float:
        """Seconds until ``pattern`` (a regex) appears; fails with the log's tail otherwise."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if re.search(pattern, self.text(), re.M):
                return time.monotonic() - started
            if self.qemu.poll() is not None:
                break
            time.sleep(0.5)
        pytest.fail(f"no /{pattern}/ on the console after {timeout:.0f} s:\n{self.text()[-5000:]}")

    def power_off(self) -> float:
        """Press the virtual power button (ACPI) and wait for qemu to exit by itself; seconds taken."""
        pressed = time.monotonic()
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(10)
            sock.connect(str(self.monitor))
            time.sleep(0.3)
            sock.recv(4096)  # banner and prompt
            sock.sendall(b"system_powerdown\n")
            time.sleep(0.5)
        try:
            code = self.qemu.wait(timeout=POWEROFF_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"no poweroff within {POWEROFF_TIMEOUT} s:\n{self.text()[-3000:]}")
        assert code == 0
        assert "reboot: Power down" in self.text()
        return time.monotonic() - pressed


@contextlib.contextmanager
def boot(disk: Path, tmp_path: Path) -> Iterator[Console]:
    """qemu (q35, TCG, UEFI) on ``disk`` with the serial console in a file; killed if still running."""
    vars_copy = tmp_path / "OVMF_VARS.fd"
    shutil.copy(OVMF_VARS, vars_copy)
    serial, mon = tmp_path / "serial.log", tmp_path / "monitor.sock"
    command = [
        "qemu-system-x86_64",
        "-machine",
        "q35",
        "-accel",
        "tcg",
        "-smp",
        "2",
        "-m",
        "1024",
        "-nographic",
        "-drive",
        f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
        "-drive",
        f"if=pflash,format=raw,file={vars_copy}",
        "-drive",
        f"file={disk},format=raw,if=virtio",
        "-nic",
        "none",
        "-serial",
        f"file:{serial}",
        "-monitor",
        f"unix:{mon},server,nowait",
    ]
    with (tmp_path / "qemu.out").open("wb") as out:
        qemu = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield Console(serial, qemu, mon)
    finally:
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait(timeout=30)


def test_image_boots_takes_its_identity_starts_the_adapter_and_powers_off(image, tmp_path):
    disk = disk_copy(image, tmp_path, identity=True)
    with boot(disk, tmp_path) as console:
        firstboot = rf"kkt-firstboot: identity set: pos_id={POS_ID} \(from KKTCONF:identity\.toml\)"
        console.wait_for(firstboot, BOOT_TIMEOUT)
        console.wait_for(r"Started kkt-adapter\.service", BOOT_TIMEOUT - (time.monotonic() - console.started))
        to_adapter = time.monotonic() - console.started
        # The rest of the boot: host keys made at first boot, sshd up, the getty greets with the hostname.
        for pattern in (
            r"Finished kkt-firstboot\.service",
            r"ssh-keygen: generating new host keys",
            r"Started ssh\.service",
            r"Reached target multi-user\.target",
            rf"^{HOSTNAME} login:",
        ):
            console.wait_for(pattern, 120)
        log = console.text()
        assert "kkt-firstboot: copied KKTCONF:config.d/20-test.toml" in log
        assert not re.search(r"Failed to start (kkt-|ssh)", log), "a till unit failed"
        to_off = console.power_off()
    size = image.path.stat()
    print(
        "\nappliance image figures (qemu TCG, 2 vCPUs, no KVM):"
        f"\n  image build: {'reused (inputs unchanged), check ' if image.reused else ''}"
        f"{image.build_seconds:.1f} s"
        f"\n  image size: {size.st_size / 2**20:.0f} MiB ({size.st_blocks * 512 / 2**20:.0f} MiB allocated)"
        f"\n  boot to 'Started kkt-adapter.service': {to_adapter:.1f} s (from qemu start, firmware included)"
        f"\n  system_powerdown to qemu exit: {to_off:.1f} s"
    )


def test_without_identity_the_first_boot_fails_loudly_and_the_adapter_does_not_start(image, tmp_path):
    """A till written without identity.toml: kkt-firstboot says why on the console and exits non-zero, the
    adapter refuses its configuration (empty pos_id) and never reports READY, sshd still comes up."""
    disk = disk_copy(image, tmp_path, identity=False)
    with boot(disk, tmp_path) as console:
        console.wait_for(r"kkt-firstboot: FAILED: no pos_id and no hostname", BOOT_TIMEOUT)
        console.wait_for(r"Failed to start kkt-firstboot\.service", 60)
        console.wait_for(r"kkt-adapter: configuration error: pos_id: must be", 120)
        console.wait_for(r"kkt-adapter\.service: Scheduled restart job", 120)
        console.wait_for(r"Started ssh\.service", 120)
        assert not re.search(r"Started kkt-adapter\.service", console.text())
        console.power_off()
