"""docs/api/openapi.yaml is a valid OpenAPI 3.0 document and describes exactly the Flask app's routes.

``OPTIONS`` is Flask's own on every route; the spec documents it (a CORS preflight) on exactly the cashier
routes of web/cors.py, which the adapter answers itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from kkt_adapter.buffer.models import EVENT_TYPES, FISCAL_STATUSES, SYNC_STATUSES
from kkt_adapter.refusal import Refusal
from kkt_adapter.status import plan_state
from kkt_adapter.sync.breaker import STATE_VALUES
from kkt_adapter.sync.heartbeat import STATES as NETWORK_STATES
from kkt_adapter.web import create_app
from kkt_adapter.web.auth import admin_required
from kkt_adapter.web.cors import CASHIER_PATHS
from kkt_adapter.web.errors import HTTP_CODES, KKT_ERRORS, PROBLEMS
from kkt_adapter.web.metrics import KKT_STATES

SPEC_PATH = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.yaml"
PACKAGE = Path(__file__).resolve().parents[2] / "appliance" / "kkt_adapter"
#: Methods Flask adds to every rule by itself; the spec describes only the ones the views implement.
IMPLICIT_METHODS = {"HEAD", "OPTIONS"}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
#: Flask's ``<converter:name>`` / ``<name>`` placeholders, written ``{name}`` in OpenAPI.
FLASK_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@pytest.fixture(scope="module")
def spec() -> dict:
    document, _ = read_from_filename(str(SPEC_PATH))
    return document


@pytest.fixture
def app(make_cfg, tmp_path):
    # The port does not exist and no background thread starts: building the app never touches a KKT.
    cfg = make_cfg(kkt={"port": str(tmp_path / "no-such-tty"), "attempts": 1, "enq_timeout": 0.05})
    return create_app(cfg, start_background=False)


def app_routes(app) -> dict[str, set[str]]:
    """Every route of the app (static files excepted) as OpenAPI path -> upper-case methods."""
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = FLASK_PARAM.sub(r"{\1}", rule.rule)
        routes.setdefault(path, set()).update(set(rule.methods or ()) - IMPLICIT_METHODS)
    return routes


def spec_routes(spec: dict) -> dict[str, set[str]]:
    """Every documented path -> its methods, the implicit ones (CORS preflights) aside."""
    return {
        path: {method.upper() for method in item if method in HTTP_METHODS} - IMPLICIT_METHODS
        for path, item in spec["paths"].items()
    }


def test_preflights_are_documented_on_exactly_the_cashier_routes(app, spec):
    """The cashier routes (web/cors.py) are served, none is an admin route, and each documents its CORS
    preflight: 204 or 403 ``cors_origin_denied``; no other path documents ``options``."""
    documented = {path for path, item in spec["paths"].items() if "options" in item}
    assert documented == set(CASHIER_PATHS)
    served = app_routes(app)
    for path in CASHIER_PATHS:
        assert path in served, f"{path} is in web/cors.py CASHIER_PATHS but the app does not serve it"
        assert all("security" not in op for method, op in spec["paths"][path].items() if method != "options")
        responses = spec["paths"][path]["options"]["responses"]
        assert set(responses) == {"204", "403"}
        assert responses["403"] == {"$ref": "#/components/responses/CorsOriginDenied"}


def test_spec_is_valid_openapi_3_0(spec):
    assert spec["openapi"] == "3.0.3"
    validate(spec)  # raises OpenAPIValidationError with the offending pointer


def test_every_app_route_is_in_the_spec_with_the_same_methods(app, spec):
    documented = spec_routes(spec)
    for path, methods in app_routes(app).items():
        assert path in documented, f"route {path} is not described in {SPEC_PATH.name}"
        assert documented[path] == methods, f"{path}: app serves {methods}, spec says {documented[path]}"


def test_every_spec_path_exists_in_the_app(app, spec):
    served = app_routes(app)
    for path, methods in spec_routes(spec).items():
        assert path in served, f"{SPEC_PATH.name} describes {path}, which the app does not serve"
        assert served[path] == methods


def test_admin_routes_and_only_they_require_admin_auth(app, spec):
    """Views behind ``admin_required`` are exactly the operations whose security is AdminAuth."""
    # functools.wraps copies the view's names onto the wrapper, but not its code object.
    wrapper_code = admin_required(lambda: None).__code__
    admin_views = {endpoint for endpoint, view in app.view_functions.items() if view.__code__ is wrapper_code}
    assert admin_views, "no admin view found: has admin_required changed?"
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = FLASK_PARAM.sub(r"{\1}", rule.rule)
        for method in set(rule.methods or ()) - IMPLICIT_METHODS:
            operation = spec["paths"][path][method.lower()]
            secured = {"AdminAuth": []} in operation.get("security", [])
            assert secured == (rule.endpoint in admin_views), f"{method} {path}: AdminAuth={secured}"


def test_problem_responses_use_problem_json(spec):
    """Every 4xx/5xx answer of the API is documented as application/problem+json (health's 503 aside)."""
    responses = spec["components"]["responses"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if not status.startswith(("4", "5")) or (path == "/v1/health" and status == "503"):
                    continue
                if "$ref" in response:
                    response = responses[response["$ref"].rsplit("/", 1)[-1]]
                assert list(response["content"]) == ["application/problem+json"], f"{method} {path} {status}"


def test_kkt_states_and_buffered_reasons_match_the_code(spec):
    """The KKT states the adapter reports, and the reason codes of a ``buffered`` answer derived from them
    (``FiscalService._answer``: ``kkt_<state>`` when the KKT is not ok, ``print_retry`` when it is,
    ``storage_full`` when the disk filled after the receipt was journaled)."""
    schemas = spec["components"]["schemas"]
    health_states = schemas["Health"]["properties"]["components"]["properties"]["kkt"]["properties"]["status"]
    assert set(health_states["enum"]) == set(KKT_STATES)
    assert set(schemas["BufferStatus"]["properties"]["kkt_status"]["enum"]) == set(KKT_STATES)
    reasons = set(schemas["BufferedReason"]["properties"]["code"]["enum"])
    expected = {f"kkt_{state}" for state in KKT_STATES if state != "ok"} | {"print_retry", "storage_full"}
    assert reasons == expected


def test_enums_match_the_code(spec):
    """Statuses, network states, breaker states and receipt event types are the code's own values."""
    schemas = spec["components"]["schemas"]
    assert set(schemas["FiscalStatus"]["enum"]) == set(FISCAL_STATUSES)
    assert set(schemas["DeliveryStatus"]["enum"]) == set(SYNC_STATUSES)
    assert set(schemas["NetworkStatus"]["enum"]) == set(NETWORK_STATES)
    assert set(schemas["BreakerState"]["enum"]) == {plan_state({"e": state}) for state in STATE_VALUES}
    assert set(schemas["TargetReport"]["properties"]["breaker"]["enum"]) == set(STATE_VALUES)
    events = schemas["ReceiptDetail"]["allOf"][1]["properties"]["events"]["items"]["properties"]["type"]
    assert set(events["enum"]) <= set(EVENT_TYPES), set(events["enum"]) - set(EVENT_TYPES)


#: Codes answered by the till's kkt-proxy (nginx, ansible/roles/till_proxy), not by the adapter.
PROXY_CODES = {"adapter_unavailable", "adapter_timeout", "request_timeout"}


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_the_error_map_and_the_spec_list_the_same_problem_codes(spec):
    """The Problem schema's code list is exactly the error map's codes (plus the proxy's own)."""
    prose = spec["components"]["schemas"]["Problem"]["properties"]["code"]["description"]
    documented = set(re.findall(r"[a-z_]+", re.sub(r"`[^`]*`", "", prose)))  # `field names` are not codes
    answered = {"http_error", *PROBLEMS, *HTTP_CODES.values()}
    assert answered - documented == set(), f"undocumented problem codes: {sorted(answered - documented)}"
    listed = {word for word in documented if "_" in word or word in answered}
    assert listed - answered - PROXY_CODES == set(), f"documented but never answered: {listed - answered}"


def test_every_refusal_and_kkt_error_has_an_entry_in_the_error_map():
    """Each fixed code of a domain refusal, each KKT error class and each werkzeug code maps to a status."""
    import kkt_adapter.web  # noqa: F401 - imports every module that defines a Refusal

    fixed = {cls.code for cls in _subclasses(Refusal) if "code" in vars(cls)}
    assert fixed, "no Refusal subclass found"
    codes = fixed | {code for _, code in KKT_ERRORS} | set(HTTP_CODES.values())
    assert codes - set(PROBLEMS) - {"bad_request", "forbidden", "not_found", "method_not_allowed"} == set()
    assert codes <= set(PROBLEMS), f"codes without a status: {sorted(codes - set(PROBLEMS))}"
