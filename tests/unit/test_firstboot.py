"""appliance/image/kkt-firstboot: parsing of the kernel command line and identity.toml, validation of pos_id
and hostname, and what it writes — against a fake root (``--root``, ``--cmdline``, ``--config-dir``), so
nothing here mounts a partition or changes this machine's hostname.

The script is a standalone file (installed as /usr/local/sbin/kkt-firstboot in the image); its functions
are loaded from the file for the parser tests and the whole program is run as a subprocess for the rest.
The written identity is read back through the adapter's own config loader (config.d drop-ins).
"""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest

from kkt_adapter import config as config_mod

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "appliance/image/kkt-firstboot"
KKT_GID = 4242


def _load():
    loader = SourceFileLoader("kkt_firstboot", str(SCRIPT))
    spec = importlib.util.spec_from_loader("kkt_firstboot", loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["kkt_firstboot"] = module  # dataclasses resolve their module through sys.modules
    loader.exec_module(module)
    return module


fb = _load()


# --- parsing and validation -----------------------------------------------------------------------------


def test_cmdline_keys_are_taken_and_others_ignored():
    line = (
        'BOOT_IMAGE=/x root=PARTUUID=1 ro kkt.pos_id=store7-till3 kkt.hostname="till-3" kkt.other=1 quiet\n'
    )
    assert fb.parse_cmdline(line) == {"pos_id": "store7-till3", "hostname": "till-3"}


def test_cmdline_last_occurrence_wins_and_bad_quotes_do_not_crash():
    assert fb.parse_cmdline("kkt.pos_id=a kkt.pos_id=b") == {"pos_id": "b"}
    assert fb.parse_cmdline('kkt.pos_id=a x="unbalanced') == {"pos_id": "a"}
    assert fb.parse_cmdline("") == {}


def test_identity_toml_accepts_exactly_the_two_keys():
    assert fb.parse_identity_toml('pos_id = "a"\nhostname = "b"\n', "f") == {"pos_id": "a", "hostname": "b"}
    assert fb.parse_identity_toml('pos_id = "a"\n', "f") == {"pos_id": "a"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('pos_id = "a"\nodoo_token = "x"\n', "unknown key(s) odoo_token"),
        ("pos_id = 12\n", "pos_id must be a string"),
        ('pos_id = "a\n', "not valid TOML"),
        ('[adapter]\npos_id = "a"\n', "unknown key(s) adapter"),
    ],
)
def test_identity_toml_rejects_anything_else(text, message):
    with pytest.raises(fb.FirstBootError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fb.parse_identity_toml(text, "KKTCONF:identity.toml")


@pytest.mark.parametrize("pos_id", ["a", "store01-till01", "A.b_c-9", "x" * 64])
def test_valid_pos_ids(pos_id):
    assert fb.validate(fb.Identity(pos_id, "till")) == (pos_id, "till")


@pytest.mark.parametrize("pos_id", ["", "x" * 65, "till 1", "till/1", "кассa1", "till;rm", "a\n"])
def test_invalid_pos_ids(pos_id):
    with pytest.raises(fb.FirstBootError, match="invalid pos_id"):
        fb.validate(fb.Identity(pos_id, "till"))


@pytest.mark.parametrize("hostname", ["a", "till-01", "T1", "0till", "x" * 63])
def test_valid_hostnames(hostname):
    assert fb.validate(fb.Identity("p", hostname))[1] == hostname


@pytest.mark.parametrize("hostname", ["", "-till", "till-", "till_01", "till.store", "x" * 64, "till 1"])
def test_invalid_hostnames(hostname):
    with pytest.raises(fb.FirstBootError, match="invalid hostname"):
        fb.validate(fb.Identity("p", hostname))


def test_missing_values_are_named():
    with pytest.raises(fb.FirstBootError, match="no pos_id and no hostname"):
        fb.validate(fb.Identity())
    with pytest.raises(fb.FirstBootError, match="no hostname"):
        fb.validate(fb.Identity(pos_id="p"))


def test_the_pos_id_rule_is_the_adapters():
    """The script (standard library, runs outside the venv) repeats the adapter's pattern; keep them equal."""
    assert fb.POS_ID_RE.pattern == config_mod.POS_ID_RE.pattern


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "127.0.0.1\tlocalhost\n::1\tlocalhost\n",
            "127.0.0.1\tlocalhost\n127.0.1.1\ttill-9\n::1\tlocalhost\n",
        ),
        (
            "127.0.0.1 localhost\n127.0.1.1 old-name\n10.0.0.5 central\n",
            "127.0.0.1 localhost\n127.0.1.1\ttill-9\n10.0.0.5 central\n",
        ),
        ("", "127.0.1.1\ttill-9\n"),
    ],
)
def test_hosts_gets_exactly_one_127_0_1_1_line(before, after):
    assert fb.hosts_with(before, "till-9") == after
    assert fb.hosts_with(after, "till-9") == after  # idempotent


# --- the whole program on a fake root ---------------------------------------------------------------------


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc/kkt-adapter").mkdir(parents=True)
    (root / "etc/group").write_text(f"root:x:0:\ndialout:x:20:\nkkt:x:{KKT_GID}:\n")
    (root / "etc/hosts").write_text("127.0.0.1\tlocalhost\n")
    (root / "etc/kkt-adapter/config.toml").write_text('[log]\nlevel = "info"\n')
    return root


@pytest.fixture
def partition(tmp_path: Path) -> Path:
    folder = tmp_path / "kktconf"
    folder.mkdir()
    return folder


def run(root: Path, partition: Path | None, cmdline: str = "") -> subprocess.CompletedProcess[str]:
    cmdline_file = root.parent / "cmdline"
    cmdline_file.write_text(cmdline + "\n")
    args = [sys.executable, str(SCRIPT), "--root", str(root), "--cmdline", str(cmdline_file)]
    if partition is not None:
        args += ["--config-dir", str(partition)]
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
    return subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)


def identity_file(root: Path) -> Path:
    return root / "etc/kkt-adapter/config.d/10-identity.toml"


def test_identity_from_the_partition_is_written(fake_root, partition):
    (partition / "identity.toml").write_text('pos_id = "store7-till3"\nhostname = "store7-till3"\n')
    result = run(fake_root, partition)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pos_id=store7-till3 (from KKTCONF:identity.toml)" in result.stdout
    assert (fake_root / "etc/hostname").read_text() == "store7-till3\n"
    assert (fake_root / "etc/hosts").read_text() == "127.0.0.1\tlocalhost\n127.0.1.1\tstore7-till3\n"
    written = identity_file(fake_root)
    assert 'pos_id = "store7-till3"' in written.read_text()
    info = written.stat()
    assert stat.S_IMODE(info.st_mode) == 0o640
    if os.geteuid() == 0:
        assert (info.st_uid, info.st_gid) == (0, KKT_GID)
    # No temporary files are left beside the written ones.
    assert sorted(p.name for p in written.parent.iterdir()) == ["10-identity.toml"]
    # The adapter reads it as a drop-in over config.toml.
    cfg = config_mod.load(str(fake_root / "etc/kkt-adapter/config.toml"), environ={})
    assert cfg.pos_id == "store7-till3"


def test_kernel_command_line_wins_over_the_partition_per_key(fake_root, partition):
    (partition / "identity.toml").write_text('pos_id = "from-file"\nhostname = "file-host"\n')
    result = run(fake_root, partition, "ro quiet kkt.hostname=cmdline-host")
    assert result.returncode == 0, result.stdout
    assert (fake_root / "etc/hostname").read_text() == "cmdline-host\n"
    assert 'pos_id = "from-file"' in identity_file(fake_root).read_text()
    assert "hostname=cmdline-host (from kernel command line)" in result.stdout


def test_kernel_command_line_alone_is_enough(fake_root):
    nowhere = fake_root.parent / "no-such-partition"
    result = run(fake_root, nowhere, "kkt.pos_id=p1 kkt.hostname=h1")
    assert result.returncode == 0, result.stdout
    assert 'pos_id = "p1"' in identity_file(fake_root).read_text()


def test_missing_identity_fails_clearly_and_writes_nothing(fake_root, partition):
    result = run(fake_root, partition)
    assert result.returncode == 1
    assert "FAILED: no pos_id and no hostname" in result.stderr
    assert "will not sell" in result.stderr
    assert not identity_file(fake_root).exists()
    assert not (fake_root / "etc/hostname").exists()
    assert not identity_file(fake_root).parent.exists() or not any(identity_file(fake_root).parent.iterdir())


def test_invalid_identity_fails_before_any_write(fake_root, partition):
    (partition / "identity.toml").write_text('pos_id = "store 7"\nhostname = "ok"\n')
    result = run(fake_root, partition)
    assert result.returncode == 1
    assert "invalid pos_id 'store 7' (from KKTCONF:identity.toml)" in result.stderr
    assert not identity_file(fake_root).exists()
    assert not (fake_root / "etc/hostname").exists()


def test_journal_lines_carry_priorities(fake_root, partition):
    cmdline_file = fake_root.parent / "cmdline"
    cmdline_file.write_text("")
    args = ["--root", str(fake_root), "--cmdline", str(cmdline_file), "--config-dir", str(partition)]
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "JOURNAL_STREAM": "8:1234"},
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith("<3>kkt-firstboot: FAILED:")


def test_config_d_files_are_copied_with_the_identity_last(fake_root, partition):
    (partition / "identity.toml").write_text('pos_id = "p"\nhostname = "h"\n')
    (partition / "config.d").mkdir()
    (partition / "config.d/20-odoo.toml").write_text('[odoo]\ntoken = "secret"\n')
    (partition / "config.d/30-log.toml").write_text('[log]\nlevel = "debug"\n')
    (partition / "config.d/README.txt").write_text("not a drop-in\n")
    result = run(fake_root, partition)
    assert result.returncode == 0, result.stdout
    config_d = fake_root / "etc/kkt-adapter/config.d"
    assert sorted(p.name for p in config_d.iterdir()) == ["10-identity.toml", "20-odoo.toml", "30-log.toml"]
    for path in config_d.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path.name
    # Written in order, the identity file last: it is what the unit's condition checks.
    assert identity_file(fake_root).stat().st_mtime_ns >= (config_d / "30-log.toml").stat().st_mtime_ns
    cfg = config_mod.load(str(fake_root / "etc/kkt-adapter/config.toml"), environ={})
    assert (cfg.pos_id, cfg.odoo.token, cfg.log.level) == ("p", "secret", "debug")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("20-bad.toml", "[odoo\n", "not valid TOML"),
        ("50-id.toml", 'pos_id = "other"\n', "sets pos_id"),
        ("10-identity.toml", "[log]\n", "file name not allowed"),
        ("a b.toml", "[log]\n", "file name not allowed"),
    ],
)
def test_bad_config_d_files_stop_the_first_boot(fake_root, partition, name, content, message):
    (partition / "identity.toml").write_text('pos_id = "p"\nhostname = "h"\n')
    (partition / "config.d").mkdir()
    (partition / "config.d" / name).write_text(content)
    result = run(fake_root, partition)
    assert result.returncode == 1
    assert message in result.stderr
    assert not identity_file(fake_root).exists()


def test_missing_kkt_group_is_an_error(fake_root, partition):
    (fake_root / "etc/group").write_text("root:x:0:\n")
    result = run(fake_root, partition, "kkt.pos_id=p kkt.hostname=h")
    assert result.returncode == 1
    assert "group 'kkt' does not exist" in result.stderr
    assert not identity_file(fake_root).exists()


def test_a_second_run_overwrites_atomically(fake_root, partition):
    assert run(fake_root, partition, "kkt.pos_id=first kkt.hostname=h").returncode == 0
    assert run(fake_root, partition, "kkt.pos_id=second kkt.hostname=h").returncode == 0
    assert 'pos_id = "second"' in identity_file(fake_root).read_text()
    assert (fake_root / "etc/hosts").read_text().count("127.0.1.1") == 1
