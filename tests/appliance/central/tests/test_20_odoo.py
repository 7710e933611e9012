"""Booted central server, role central_odoo: Odoo 17 as central-odoo.service.

Checked inside the server (``host.run``; requests go to 127.0.0.1 from the server's python3, as nginx
reaches Odoo): the service runs as odoo with the master, HTTP and cron workers and the gevent worker that
odoo.conf asks for, listens on loopback only (8069, 8072), serves its login page and /websocket, refuses
database management (list_db off, even with the master password), has our addons and the OCA ones
installed (the database recording the digests of their code), keeps attachments in PostgreSQL, logs to
the journal, runs sandboxed as the unit says (and still prints a PDF report through wkhtmltopdf under
MemoryDenyWriteExecute), from a venv holding exactly the wheelhouse's lock. The passwords come from the
test inventory's vault.
"""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[4]
VAULT = REPO / "tests/appliance/central/inventory/group_vars/central/vault.yml"
VAULT_PASSWORD = REPO / "tests/appliance/example-vault-password.txt"
#: tests/appliance/central/inventory: central_odoo_db_name; the role's default addons.
DB = "odoo"
OUR_ADDONS = ("optics_pos_ru54fz", "optics_core", "connector_b", "ru_accounting_extras")
#: OCA addons our addons depend on, installed from their wheels into the venv (addons/oca-requirements.txt).
OCA_ADDONS = ("l10n_ru", "report_xlsx")
CONF = "/etc/odoo/odoo.conf"
UNIT = "central-odoo.service"

# JSON-RPC calls and plain GETs to Odoo on 127.0.0.1, run by the server's python3 (no curl on a minimal
# Debian), in one cookie session: {"calls": [{"path", "params"} | {"get": path}]} → one JSON result per call
# ({"status", "type", "size", "head"} for a GET, the JSON-RPC answer for a call).
CLIENT = r"""
import http.cookiejar, json, sys, urllib.error, urllib.request
a = json.loads(sys.argv[1])
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
out = []
for call in a["calls"]:
    url = "http://127.0.0.1:%d%s" % (a["port"], call.get("get") or call["path"])
    rpc = {"jsonrpc": "2.0", "method": "call", "params": call.get("params")}
    data = None if "get" in call else json.dumps(rpc).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"} if data else {})
    try:
        response = opener.open(request, timeout=300)
    except urllib.error.HTTPError as error:
        response = error
    body = response.read()
    if "get" in call:
        kind, head = response.headers.get("Content-Type"), body[:8].decode("latin-1")
        out.append({"status": response.status, "type": kind, "size": len(body), "head": head})
    else:
        out.append(json.loads(body))
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def vault() -> dict:
    ansible_vault = Path(sys.executable).parent / "ansible-vault"
    out = subprocess.run(
        [str(ansible_vault), "view", "--vault-password-file", str(VAULT_PASSWORD), str(VAULT)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return yaml.safe_load(out)


@pytest.fixture(scope="module")
def conf(host) -> dict[str, str]:
    text = host.run(f"cat {CONF}").stdout
    return dict(re.findall(r"(?m)^(\w+) = (.*)$", text))


def odoo(host, *calls: dict, port: int = 8069) -> list:
    result = host.run(
        f"python3 -c {_quote(CLIENT)} {_quote(json.dumps({'port': port, 'calls': list(calls)}))}"
    )
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def psql(host, sql: str, **variables: str) -> list[list[str]]:
    """Rows of a query run as the OS user odoo (peer authentication, the PostgreSQL role Odoo uses);
    ``:'name'`` placeholders are psql variables."""
    options = " ".join(f"-v {name}={_quote(value)}" for name, value in variables.items())
    # From stdin: psql expands variables there, never in -c.
    result = host.run(
        f"printf '%s\\n' {_quote(sql)} | runuser -u odoo -- psql -d {DB} -XAtq -F '|' {options}"
    )
    assert result.rc == 0, result.stderr
    return [line.split("|") for line in result.stdout.splitlines() if line]


def unit_processes(host) -> list[tuple[int, int, str, str]]:
    """(pid, ppid, user, command) of every process of the service (ps's systemd unit column)."""
    rows = [
        line.split(None, 4) for line in host.run("ps -e -o pid=,ppid=,user=,unit=,args=").stdout.splitlines()
    ]
    return [(int(r[0]), int(r[1]), r[2], r[4]) for r in rows if len(r) == 5 and r[3] == UNIT]


def test_service_is_active_enabled_and_runs_as_odoo(host):
    service = host.service(UNIT)
    assert service.is_running and service.is_enabled
    show = host.run(f"systemctl show -p User -p Group -p NRestarts -p Result {UNIT}").stdout.split()
    assert {"User=odoo", "Group=odoo", "Result=success"} <= set(show), show
    assert "NRestarts=0" in show, "central-odoo restarted by itself (crash loop?)"


def test_master_runs_the_workers_odoo_conf_asks_for(host, conf):
    """Master + HTTP workers + cron workers + the gevent worker, all as odoo."""
    workers, crons = int(conf["workers"]), int(conf["max_cron_threads"])
    assert workers >= 2
    expected = 1 + workers + crons + 1
    deadline = time.monotonic() + 60
    while True:  # workers recycled (limit_request) are respawned within a second
        odoo_procs = [p for p in unit_processes(host) if "odoo-bin" in p[3]]
        if len(odoo_procs) == expected or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert len(odoo_procs) == expected, odoo_procs
    assert {p[2] for p in odoo_procs} == {"odoo"}
    master = host.run(f"systemctl show -p MainPID --value {UNIT}").stdout.strip()
    children = [p for p in odoo_procs if str(p[1]) == master]
    assert len(children) == expected - 1
    assert sum(" gevent " in p[3] for p in children) == 1


def test_listens_on_loopback_only(host, conf):
    pids = {str(p[0]) for p in unit_processes(host)}
    listening = set()
    for line in host.run("ss -Hltnp").stdout.splitlines():
        if any(f"pid={pid}," in line for pid in pids):
            listening.add(line.split()[3])
    assert listening == {f"127.0.0.1:{conf['http_port']}", f"127.0.0.1:{conf['gevent_port']}"}
    assert (conf["http_port"], conf["gevent_port"]) == ("8069", "8072")
    assert conf["proxy_mode"] == "True"


def test_serves_the_login_page_and_the_websocket(host):
    (login,) = odoo(host, {"get": "/web/login"})
    assert (login["status"], login["type"].split(";")[0]) == (200, "text/html")
    probe = (
        "import socket; s = socket.create_connection(('127.0.0.1', 8072), timeout=10); "
        "s.sendall(b'GET /websocket HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nUpgrade: websocket\\r\\n"
        "Connection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\n"
        "Sec-WebSocket-Version: 13\\r\\n"
        "Origin: http://127.0.0.1\\r\\n\\r\\n'); print(s.recv(100).split(b'\\r\\n')[0].decode())"
    )
    assert host.run(f"python3 -c {_quote(probe)}").stdout.strip() == "HTTP/1.1 101 SWITCHING PROTOCOLS"


def test_database_management_is_refused(host, vault, conf):
    """list_db = False: no listing, and not even the master password dumps or drops the database."""
    assert conf["list_db"] == "False" and conf["dbfilter"] == f"^{DB}$"
    listing, rpc_list, dump = odoo(
        host,
        {"path": "/web/database/list", "params": {}},
        {"path": "/jsonrpc", "params": {"service": "db", "method": "list", "args": []}},
        {
            "path": "/jsonrpc",
            "params": {
                "service": "db",
                "method": "dump",
                "args": [vault["vault_central_odoo_admin_passwd"], DB, "zip"],
            },
        },
    )
    for answer in (listing, rpc_list, dump):
        assert answer["error"]["data"]["name"] == "odoo.exceptions.AccessDenied", answer


def test_our_addons_and_their_oca_dependencies_are_installed(host):
    names = OUR_ADDONS + OCA_ADDONS
    sql = "SELECT name, state FROM ir_module_module WHERE name = ANY(string_to_array(:'names', ','))"
    rows = psql(host, sql, names=",".join(names))
    assert dict(rows) == dict.fromkeys(names, "installed")
    # The Russian translations were loaded with the database (--load-language=ru_RU).
    assert psql(host, "SELECT active FROM res_lang WHERE code = 'ru_RU'") == [["t"]]
    # No demo data (--without-demo=all).
    assert psql(host, "SELECT count(*) FROM ir_module_module WHERE demo AND state = 'installed'") == [["0"]]


def test_the_database_records_the_code_its_addons_were_installed_with(host):
    """The digests central_odoo keeps in the database: nothing stale after a converge, and a changed file
    makes its addon stale (the next converge updates it with -u), read by the role's own db_state.py."""
    (value,) = psql(host, "SELECT value FROM ir_config_parameter WHERE key = 'central_odoo.addon_digests'")[0]
    digests = json.loads(value)
    assert sorted(digests) == sorted(OUR_ADDONS)
    assert all(re.fullmatch(r"[0-9a-f]{64}", d) for d in digests.values()), digests
    script = (REPO / "ansible/roles/central_odoo/files/db_state.py").read_text(encoding="utf-8")

    def stale(addons_dir: str) -> list[str]:
        python = "runuser -u odoo -- /opt/odoo/venv/bin/python3"
        result = host.run(
            f"cd /var/lib/odoo && {python} -c %s read %s %s %s </dev/null",
            script,
            DB,
            addons_dir,
            ",".join(OUR_ADDONS),
        )
        assert result.rc == 0, result.stderr
        return json.loads(result.stdout)["stale"]

    assert stale("/opt/odoo/addons") == []
    copy = host.check_output("mktemp -d /tmp/addons-XXXXXX")
    try:
        host.check_output(f"cp -a /opt/odoo/addons/. {copy}/ && chmod 0755 {copy}")
        host.check_output(f"echo '# changed' >> {copy}/connector_b/__init__.py")
        assert stale(copy) == ["connector_b"]
    finally:
        host.run("rm -rf %s", copy)


def test_attachments_live_in_the_database(host):
    """ir_attachment.location = db: nothing in a filestore that pgBackRest would not back up."""
    assert psql(host, "SELECT value FROM ir_config_parameter WHERE key = 'ir_attachment.location'") == [
        ["db"]
    ]
    (counts,) = psql(
        host,
        "SELECT count(*) FILTER (WHERE store_fname IS NOT NULL), "
        "count(*) FILTER (WHERE db_datas IS NOT NULL) FROM ir_attachment",
    )
    assert counts[0] == "0" and int(counts[1]) > 0, counts


def test_admin_logs_in_with_the_vault_password_and_a_pdf_report_prints(host, vault):
    """The admin user's password is the vault's; wkhtmltopdf runs inside the unit's sandboxing
    (MemoryDenyWriteExecute, SystemCallFilter, PrivateTmp) and returns a PDF."""
    (module_id,) = psql(host, "SELECT id FROM ir_module_module WHERE name = 'l10n_ru'")[0]
    auth, pdf = odoo(
        host,
        {
            "path": "/web/session/authenticate",
            "params": {"db": DB, "login": "admin", "password": vault["vault_central_odoo_admin_password"]},
        },
        {"get": f"/report/pdf/base.report_irmodulereference/{module_id}"},
    )
    assert auth["result"]["uid"] == 2, auth
    assert (pdf["status"], pdf["type"], pdf["head"][:5]) == (200, "application/pdf", "%PDF-"), pdf


def test_journal_holds_the_service_log(host):
    log = host.run(f"journalctl -u {UNIT} -o cat --no-pager -n 5000").stdout
    assert re.search(
        r" INFO \? odoo\.service\.server: HTTP service \(werkzeug\) running on 127\.0\.0\.1:8069", log
    )
    assert re.search(rf" INFO {DB} odoo\.modules\.loading: Modules loaded\.", log)
    assert not host.file("/var/log/odoo").exists
    assert "logfile = False" in host.file(CONF).content_string


def test_unit_sandbox_is_in_effect(host):
    show = dict(
        line.split("=", 1)
        for line in host.run(
            f"systemctl show -p ProtectSystem -p NoNewPrivileges -p User -p PrivateTmp -p PrivateDevices "
            f"-p MemoryDenyWriteExecute -p CapabilityBoundingSet -p RestrictAddressFamilies {UNIT}"
        ).stdout.splitlines()
    )
    assert show["ProtectSystem"] == "strict" and show["NoNewPrivileges"] == "yes" and show["User"] == "odoo"
    assert show["PrivateTmp"] == show["PrivateDevices"] == show["MemoryDenyWriteExecute"] == "yes"
    assert show["CapabilityBoundingSet"] == ""
    assert set(show["RestrictAddressFamilies"].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    pid = host.run(f"systemctl show -p MainPID --value {UNIT}").stdout.strip()
    status = dict(re.findall(r"(?m)^(\w+):\s+(.*)$", host.file(f"/proc/{pid}/status").content_string))
    assert (status["NoNewPrivs"], status["Seccomp"], status["CapEff"]) == ("1", "2", "0000000000000000")
    # Inside the service's mount namespace the system is read-only, its data folder is not.
    inside = f"nsenter -t {pid} -m --"
    assert "Read-only file system" in host.run(f"{inside} touch /opt/odoo/probe").stderr
    assert host.run(f"{inside} sh -c 'touch /var/lib/odoo/probe && rm /var/lib/odoo/probe'").rc == 0


def test_odoo_conf_is_private_and_holds_only_a_hash(host, vault):
    conf = host.file(CONF)
    assert (conf.user, conf.group, conf.mode) == ("root", "odoo", 0o640)
    assert not conf.mode & 0o007
    assert (host.file("/etc/odoo").mode, host.file("/etc/odoo").group) == (0o750, "odoo")
    text = conf.content_string
    assert re.search(r"(?m)^admin_passwd = \$pbkdf2-sha512\$600000\$", text)
    assert vault["vault_central_odoo_admin_passwd"] not in text


def test_venv_holds_exactly_the_wheelhouse(host):
    """Installed offline from the wheelhouse's lock: the same distributions and versions, plus pip."""
    lock = set(host.file("/opt/odoo/wheelhouse/requirements.lock").content_string.split())
    freeze = host.run(
        "/opt/odoo/venv/bin/python3 -m pip list --format=freeze --disable-pip-version-check"
    ).stdout
    norm = {
        re.sub(r"[-_.]+", "-", line.split("==")[0]).lower() + "==" + line.split("==")[1]
        for line in freeze.split()
    }
    assert lock <= norm, lock - norm
    assert {line.split("==")[0] for line in norm - lock} == {"pip"}
    assert host.file("/opt/odoo/venv").linked_to.startswith("/opt/odoo/venvs/")
