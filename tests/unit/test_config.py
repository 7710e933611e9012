"""Configuration layering: defaults < TOML < environment < overrides; typos and bad types are errors."""

import json
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


def test_dropins_overlay_the_main_file_in_lexical_order(tmp_path):
    main = tmp_path / "config.toml"
    main.write_text('pos_id = ""\n[kkt]\nbaudrate = 57600\n')
    dropins = tmp_path / "config.d"
    dropins.mkdir()
    (dropins / "10-identity.toml").write_text('pos_id = "store7-till2"\n')
    (dropins / "20-secrets.toml").write_text('[odoo]\ntoken = "t-1"\n[kkt]\nbaudrate = 9600\n')
    (dropins / "notes.txt").write_text("not a drop-in")
    cfg = config.load(str(main), environ={})
    assert cfg.pos_id == "store7-till2"
    assert cfg.odoo.token == "t-1"
    assert cfg.kkt.baudrate == 9600
    assert config.files(str(main), environ={}) == [
        main,
        dropins / "10-identity.toml",
        dropins / "20-secrets.toml",
    ]


def test_a_bad_dropin_is_named_in_the_error(tmp_path):
    (tmp_path / "config.d").mkdir()
    (tmp_path / "config.d" / "10-identity.toml").write_text("[kkt]\nprot = 1\n")
    with pytest.raises(config.ConfigError, match=r"10-identity\.toml: kkt\.prot: unknown setting"):
        config.load(str(tmp_path / "config.toml"), environ={})


@pytest.mark.parametrize("pos_id", ["", "till 1", "till/1", "t" * 65, "кассa"])
def test_pos_id_outside_the_safe_alphabet_is_refused(tmp_path, pos_id):
    with pytest.raises(config.ConfigError, match=r"pos_id: must be 1\.\.64 characters"):
        config.load(str(tmp_path / "none.toml"), environ={}, pos_id=pos_id)


@pytest.mark.parametrize(
    ("listen", "metrics", "message"),
    [
        ("0.0.0.0:8765", "0.0.0.0:8765", "different port"),
        ("0.0.0.0:8765", "9101", "http.metrics_listen: expected HOST:PORT"),
        ("0.0.0.0:70000", "", "http.listen: expected HOST:PORT"),
    ],
)
def test_metrics_listener_is_validated(tmp_path, listen, metrics, message):
    with pytest.raises(config.ConfigError, match=message):
        config.load(
            str(tmp_path / "none.toml"),
            environ={"KKT_ADAPTER_HTTP__LISTEN": listen, "KKT_ADAPTER_HTTP__METRICS_LISTEN": metrics},
        )


def test_the_disk_full_reserve_must_hold_a_wal_checkpoint(tmp_path):
    """Smaller than two checkpoints of the configured WAL plus a receipt's writes, the reserve could not
    let the receipt in flight finish on a full disk: refused. 0 turns the protection off."""
    load = lambda **buffer: config.load(str(tmp_path / "none.toml"), environ={}, buffer=buffer)  # noqa: E731
    assert load().buffer.reserve_bytes == 2 * 1024 * 1024
    assert load(reserve_bytes=0).buffer.reserve_bytes == 0
    floor = 2 * 100 * 4096 + 64 * 1024
    assert load(reserve_bytes=floor).buffer.reserve_bytes == floor
    with pytest.raises(config.ConfigError, match=rf"buffer\.reserve_bytes: must be 0 or at least {floor}"):
        load(reserve_bytes=floor - 1)
    with pytest.raises(config.ConfigError, match="at least 1703936"):
        load(reserve_bytes=floor, wal_autocheckpoint_pages=200)


def test_cors_origins_default_to_none_and_come_from_toml_or_the_environment(tmp_path):
    assert config.load(str(tmp_path / "none.toml"), environ={}).http.cors_origins == ()
    f = tmp_path / "c.toml"
    f.write_text('[http]\ncors_origins = ["https://erp.example.ru", "http://127.0.0.1:8069"]\n')
    assert config.load(str(f), environ={}).http.cors_origins == (
        "https://erp.example.ru",
        "http://127.0.0.1:8069",
    )
    for text in (
        '["https://erp.example.ru", "http://[::1]:8069"]',
        "https://erp.example.ru, http://[::1]:8069",
    ):
        env = {"KKT_ADAPTER_HTTP__CORS_ORIGINS": text}  # a JSON array or comma-separated, like every list
        assert config.load(str(f), environ=env).http.cors_origins == (
            "https://erp.example.ru",
            "http://[::1]:8069",
        )
    assert config.load(str(f), environ={"KKT_ADAPTER_HTTP__CORS_ORIGINS": "[]"}).http.cors_origins == ()


@pytest.mark.parametrize(
    ("origin", "message"),
    [
        ("*", "is not an origin"),
        ("null", "is not an origin"),
        ("https://erp.example.ru/", "is not an origin"),
        ("https://erp.example.ru/pos/ui", "is not an origin"),
        ("HTTPS://ERP.example.ru", "is not an origin"),
        ("ftp://erp.example.ru", "is not an origin"),
        ("https://erp.example.ru:443", "spells the port as browsers never do"),
        ("http://127.0.0.1:80", "spells the port as browsers never do"),
        ("http://127.0.0.1:70000", "has no valid port"),
    ],
)
def test_a_cors_origin_not_spelled_as_browsers_send_it_is_refused(tmp_path, origin, message):
    with pytest.raises(config.ConfigError, match=rf"http\.cors_origins: .*{message}"):
        config.load(
            str(tmp_path / "none.toml"), environ={"KKT_ADAPTER_HTTP__CORS_ORIGINS": json.dumps([origin])}
        )
    f = tmp_path / "c.toml"
    f.write_text(f"[http]\ncors_origins = [{json.dumps(origin)}]\n")
    with pytest.raises(config.ConfigError, match=r"http\.cors_origins: .*scheme://host\[:port\]"):
        config.load(str(f), environ={})


def test_a_list_in_the_environment_that_is_not_json_is_named(tmp_path):
    with pytest.raises(
        config.ConfigError, match=r"KKT_ADAPTER_HTTP__CORS_ORIGINS: http\.cors_origins: not a JSON array"
    ):
        config.load(
            str(tmp_path / "none.toml"), environ={"KKT_ADAPTER_HTTP__CORS_ORIGINS": '["https://a.ru"'}
        )
