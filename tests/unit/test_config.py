"""Configuration layering: defaults < TOML < environment < overrides; typos and bad types are errors."""

import re

import pytest

from kkt_adapter import config


def test_defaults_without_a_file(tmp_path):
    cfg = config.load(str(tmp_path / "none.toml"), environ={})
    assert cfg.buffer.capacity == 200
    assert cfg.kkt.baudrate == 115200
    assert cfg.http.listen == "127.0.0.1:8765"


def test_file_then_environment(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('pos_id = "store7-till2"\n[kkt]\nport = "/dev/ttyUSB0"\nbaudrate = 57600\n')
    cfg = config.load(
        str(f), environ={"KKT_ADAPTER_KKT__PORT": "/dev/pts/9", "KKT_ADAPTER_BUFFER__CAPACITY": "50"}
    )
    assert cfg.pos_id == "store7-till2"
    assert cfg.kkt.port == "/dev/pts/9"
    assert cfg.kkt.baudrate == 57600
    assert cfg.buffer.capacity == 50


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[kkt]\nprot = 1\n", "kkt.prot: unknown setting"),
        ("[buffer]\ncapacity = 'many'\n", "buffer.capacity: expected int"),
        ("[kkt\n", "c.toml"),
        ("[http]\nlisten = 'nohost'\n", "http.listen"),
    ],
)
def test_invalid_files_are_refused_with_the_key(tmp_path, text, message):
    f = tmp_path / "c.toml"
    f.write_text(text)
    with pytest.raises(config.ConfigError, match=re.escape(message)):
        config.load(str(f), environ={})


def test_bad_environment_value(tmp_path):
    with pytest.raises(config.ConfigError, match=r"kkt\.auto_open_shift"):
        config.load(str(tmp_path / "x"), environ={"KKT_ADAPTER_KKT__AUTO_OPEN_SHIFT": "perhaps"})


def test_reserved_environment_names_are_not_settings(tmp_path):
    env = {"KKT_ADAPTER_GUNICORN_CONF": "/etc/x.py", "KKT_ADAPTER_LOG__LEVEL": "warning"}
    assert config.load(str(tmp_path / "x"), environ=env).log.level == "warning"
