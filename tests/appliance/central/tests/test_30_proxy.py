"""Booted central server, role central_proxy: nginx in front of Odoo 17.

Every request is made inside the server (``host.run``) to 127.0.0.1, through nginx to the Odoo that runs
behind it: TLS 1.3 accepted and TLS 1.2 refused, HTTP/2 offered, the certificate's names, http → https,
HSTS, Odoo's login page and its /websocket (101 from Odoo's gevent port), and the request body limits per
route — ordinary routes 16 MiB, the supplier price import uploads (connector_b's API and wizard) 32 MiB,
the till API 16 MiB like the addon — each refused by nginx in the form its clients read.

The server's names, certificate and key are read from the enabled site, so the tests hold for the
inventory's names and for a real certificate as well as the self-signed one.
"""

import base64
import hashlib
import json
import re

import pytest

MIB = 1024 * 1024
#: central_proxy_client_max_body_size (16m): ordinary routes.
DEFAULT_LIMIT = 16 * MIB
#: central_proxy_import_max_body_size (32m): connector_b's upload routes.
IMPORT_LIMIT = 32 * MIB
#: central_proxy_till_api_max_body_size (16m) = optics_pos_ru54fz MAX_BODY_BYTES.
TILL_API_LIMIT = 16 * MIB
#: Over the ordinary limit, under the import limit.
OVER_DEFAULT = DEFAULT_LIMIT + MIB
HSTS = "max-age=63072000; includeSubDomains"
IMPORT_API = "/connector_b/api/v1/imports"
IMPORT_WIZARD = "/web/dataset/call_kw/connector.import.upload/web_save"
TILL_RECEIPTS = "/optics_pos_ru54fz/v1/receipts"
#: The role's site (central_proxy: templates/etc/nginx/sites-available/opticserp-central.j2).
SITE = "/etc/nginx/sites-enabled/opticserp-central"

# One HTTP/1.1 exchange with nginx on 127.0.0.1, run by the server's python3 (no curl on a minimal
# Debian). A body is announced with "Expect: 100-continue" and sent only after nginx's "100 Continue":
# nginx refuses an oversized Content-Length (413) before reading a byte of it. The certificate is not
# verified here (test_certificate_* does that). Prints {status, headers, body} as JSON.
PROBE = r"""
import json, socket, ssl, sys
a = json.loads(sys.argv[1])
sock = socket.create_connection(("127.0.0.1", a["port"]), timeout=a["timeout"])
if a["tls"]:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    sock = ctx.wrap_socket(sock, server_hostname=a["host"])
lines = ["%s %s HTTP/1.1" % (a["method"], a["path"]), "Host: " + a["host"]]
lines += ["%s: %s" % item for item in a["headers"].items()]
if a["body"]:
    lines += ["Content-Length: %d" % a["body"], "Expect: 100-continue"]
if not a["upgrade"]:
    lines.append("Connection: close")
sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
f = sock.makefile("rb")

def head():
    status = int(f.readline().split()[1])
    headers = {}
    while True:
        line = f.readline().decode("latin-1").strip()
        if not line:
            return status, headers
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()

status, headers = head()
if status == 100:
    chunk = b"0" * 65536
    left = a["body"]
    while left:
        sock.sendall(chunk[: min(left, len(chunk))])
        left -= min(left, len(chunk))
    status, headers = head()
body = b""
if status != 101:
    if "content-length" in headers:
        body = f.read(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int(f.readline().split(b";")[0], 16)
            if not size:
                break
            body += f.read(size)
            f.readline()
    else:
        body = f.read()
print(json.dumps({"status": status, "headers": headers, "body": body.decode("utf-8", "replace")}))
"""


def request(host, site, path, *, method="GET", body=0, headers=None, tls=True, upgrade=False, timeout=60):
    args = {
        "port": 443 if tls else 80,
        "tls": tls,
        "host": site["name"],
        "method": method,
        "path": path,
        "body": body,
        "headers": headers or {},
        "upgrade": upgrade,
        "timeout": timeout,
    }
    out = host.run("python3 -c %s %s", PROBE, json.dumps(args))
    assert out.rc == 0, f"{method} {path}: {out.stderr}"
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def site(host):
    """The site's first server name, all its names, certificate and key (from the enabled site)."""
    with host.sudo():
        config = host.file(SITE).content_string
    names = re.search(r"^\s*server_name\s+([^;]+);", config, re.M).group(1).split()
    return {
        "name": names[0],
        "names": names,
        "cert": re.search(r"^\s*ssl_certificate\s+([^;]+);", config, re.M).group(1),
        "key": re.search(r"^\s*ssl_certificate_key\s+([^;]+);", config, re.M).group(1),
    }


def s_client(host, site, *options):
    """openssl s_client's exit code, stdout and stderr (its session dump holds raw bytes: replaced)."""
    out = host.run(
        "openssl s_client -connect 127.0.0.1:443 -servername %s " + " ".join(options) + " </dev/null",
        site["name"],
    )
    return out.rc, out.stdout_bytes.decode(errors="replace"), out.stderr_bytes.decode(errors="replace")


def test_nginx_runs_debian_unit_with_valid_configuration(host):
    nginx = host.service("nginx")
    assert nginx.is_running
    assert nginx.is_enabled
    with host.sudo():
        assert host.run("nginx -t").rc == 0
    assert not host.file("/etc/nginx/sites-enabled/default").exists


def test_listens_on_http_and_https_on_every_address(host):
    for port in (80, 443):
        assert (
            host.socket(f"tcp://0.0.0.0:{port}").is_listening or host.socket(f"tcp://:::{port}").is_listening
        )


def test_tls13_handshake_succeeds_and_offers_http2(host, site):
    rc, stdout, stderr = s_client(host, site, "-tls1_3", "-alpn", "h2,http/1.1")
    assert rc == 0, stderr
    assert "New, TLSv1.3, Cipher is TLS_" in stdout
    assert "ALPN protocol: h2" in stdout


def test_tls12_handshake_is_refused(host, site):
    rc, stdout, stderr = s_client(host, site, "-tls1_2")
    assert rc != 0
    assert "Cipher is (NONE)" in stdout
    assert "alert protocol version" in stderr


def test_certificate_names_cover_the_server_names(host, site):
    sans = host.check_output(
        "openssl s_client -connect 127.0.0.1:443 -servername %s </dev/null 2>/dev/null"
        " | openssl x509 -noout -ext subjectAltName",
        site["name"],
    )
    for name in site["names"]:
        kind = "IP Address" if re.fullmatch(r"[0-9.]+|.*:.*", name) else "DNS"
        assert f"{kind}:{name}" in sans, sans
    # The test inventory's extra SAN: the tests reach the server as 127.0.0.1.
    assert "IP Address:127.0.0.1" in sans, sans


def test_certificate_verifies_for_every_name(host, site):
    """A self-signed certificate is its own trust anchor; a real one chains to the system's CAs."""
    cert = host.check_output("openssl x509 -in %s -noout -subject -issuer -nameopt RFC2253", site["cert"])
    subject, issuer = (line.split("=", 1)[1] for line in cert.splitlines())
    trust = f"-CAfile {site['cert']}" if subject == issuer else "-CApath /etc/ssl/certs"
    for name in site["names"]:
        rc, stdout, stderr = s_client(
            host, {"name": name}, "-verify_hostname", name, "-verify_return_error", trust
        )
        assert rc == 0 and "Verify return code: 0 (ok)" in stdout, (name, stdout[-400:], stderr)


def test_private_key_is_readable_by_root_only(host, site):
    with host.sudo():
        key = host.file(site["key"])
        assert key.user == "root"
        assert key.mode in (0o600, 0o640)


def test_http_redirects_permanently_to_https_same_host_and_path(host, site):
    answer = request(host, site, "/web/login?redirect=%2Fodoo", tls=False)
    assert answer["status"] == 301
    assert answer["headers"]["location"] == f"https://{site['name']}/web/login?redirect=%2Fodoo"


def test_odoo_login_page_through_https_with_hsts(host, site):
    answer = request(host, site, "/web/login")
    assert answer["status"] == 200, answer["body"][:500]
    assert 'name="login"' in answer["body"] or "oe_login_form" in answer["body"]
    assert answer["headers"]["strict-transport-security"] == HSTS
    assert answer["headers"]["x-content-type-options"] == "nosniff"


def test_database_manager_is_not_reachable_through_nginx(host, site):
    for path in ("/web/database/manager", "/web/database/selector", "/web/database/backup"):
        assert request(host, site, path)["status"] == 404, path


def test_websocket_upgrade_is_answered_by_odoo(host, site):
    key = base64.b64encode(b"opticserp-ws-key").decode()  # 16 bytes, as RFC 6455 wants
    answer = request(
        host,
        site,
        "/websocket",
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": key,
            "Sec-WebSocket-Version": "13",
            # Odoo 17 refuses a handshake without Origin (bus/websocket.py).
            "Origin": f"https://{site['name']}",
        },
        upgrade=True,
        timeout=15,
    )
    assert answer["status"] == 101, answer
    accept = base64.b64encode(
        hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode(), usedforsecurity=False).digest()
    )
    assert answer["headers"]["sec-websocket-accept"] == accept.decode()
    assert answer["headers"]["upgrade"].lower() == "websocket"


def test_body_over_the_default_limit_is_refused_on_ordinary_routes(host, site):
    answer = request(host, site, "/web/login", method="POST", body=OVER_DEFAULT)
    assert answer["status"] == 413
    # nginx's own answers carry HSTS too ("always").
    assert answer["headers"]["strict-transport-security"] == HSTS


def test_json_rpc_over_the_limit_is_an_odoo_error_the_web_client_shows(host, site):
    answer = request(
        host, site, "/web/dataset/call_kw/res.partner/web_save", method="POST", body=OVER_DEFAULT
    )
    assert answer["status"] == 413
    error = json.loads(answer["body"])["error"]
    assert error["data"]["name"] == "odoo.exceptions.UserError"
    assert "16 МиБ" in error["data"]["message"]


@pytest.mark.parametrize("path", [IMPORT_API, IMPORT_WIZARD])
def test_import_uploads_over_the_default_limit_reach_odoo(host, site, path):
    """nginx takes the whole body and passes it on: whatever Odoo then says (no API key, no session), it
    is not nginx's 413."""
    answer = request(host, site, path, method="POST", body=OVER_DEFAULT, timeout=120)
    assert answer["status"] != 413, answer
    assert 200 <= answer["status"] < 600


def test_import_api_over_the_import_limit_is_refused_as_a_problem(host, site):
    answer = request(host, site, IMPORT_API, method="POST", body=IMPORT_LIMIT + 1)
    assert answer["status"] == 413
    assert answer["headers"]["content-type"].startswith("application/problem+json")
    assert json.loads(answer["body"])["code"] == "file_too_large"


def test_import_wizard_over_the_import_limit_is_an_odoo_error(host, site):
    answer = request(host, site, IMPORT_WIZARD, method="POST", body=IMPORT_LIMIT + 1)
    assert answer["status"] == 413
    assert "32 МиБ" in json.loads(answer["body"])["error"]["data"]["message"]


def test_till_api_takes_the_addons_limit_and_refuses_above_it_as_a_problem(host, site):
    at_limit = request(host, site, TILL_RECEIPTS, method="POST", body=TILL_API_LIMIT, timeout=120)
    assert at_limit["status"] != 413, at_limit
    over = request(host, site, TILL_RECEIPTS, method="POST", body=TILL_API_LIMIT + 1)
    assert over["status"] == 413
    assert over["headers"]["content-type"] == "application/problem+json"
    assert json.loads(over["body"])["code"] == "body_too_large"
