"""HTTP API of the supplier price import (docs/supplier-import.md, «API»): submit a price list, poll its job.

For a supplier's or an integrator's script. Every call carries ``Authorization: Bearer <Odoo API key>`` of
a user in ``connector_b.group_import_user`` and runs as that user, so access rights and record rules apply
as in the web client (a job the user may not read is «not found»).

- ``POST /connector_b/api/v1/imports`` (multipart/form-data: ``file``, ``profile`` = profile code, optional
  ``currency_rate`` and ``confirm=true``): creates the job and previews it at once — the whole file read
  — 201 with the job and its ``Location``; ``confirm=true`` queues it too. A file the engine refuses is a
  422 with the engine's Russian message, and no job is left behind.
- ``POST …/imports/<id>/confirm``: queues a previewed job (409 while the offline-tills block holds it).
- ``GET …/imports/<id>``: the job's state, progress and counts;
  ``GET …/imports/<id>/rejected?format=xlsx|csv``: the rejected rows report.

Every error is ``application/problem+json`` (optics_pos_ru54fz's ``tools/problem.py``) with a stable
``code`` and a Russian ``detail``.
"""

import base64
import logging
import math

import psycopg2

from odoo import http
from odoo.addons.optics_pos_ru54fz.tools.problem import ApiError, json_response, problem
from odoo.exceptions import AccessError, UserError
from odoo.http import content_disposition, request

from ..engine import STATUSES
from ..models.job import REPORT_MIMETYPES

_logger = logging.getLogger(__name__)

API = "/connector_b/api/v1"
IMPORT_GROUP = "connector_b.group_import_user"
#: Largest price list accepted (413 above it). The preview reads the whole file inside the request: the
#: benchmark's 100,000-row xlsx is 4.8 MB and takes ~13 s in the engine alone, so 20 MiB (~400,000 rows of
#: xlsx, ~230,000 of CSV) keeps a preview inside a worker's default ``limit_time_real`` (120 s). Odoo's own
#: limit on a request body (128 MiB, ``odoo.http.DEFAULT_MAX_CONTENT_LENGTH``) stays above it.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: The language of the details: docs/supplier-import.md promises Russian. The API's own messages are
#: Russian text (as the engine's are); the models' messages are translated when Russian is installed,
#: otherwise they come in the user's language.
API_LANG = "ru_RU"
#: PostgreSQL's ``integer``: a larger id in the path names no job (and must not reach a query).
MAX_ID = 2**31 - 1
TRUE_VALUES = ("true", "1", "yes")
FALSE_VALUES = ("false", "0", "no", "")


def _iso(value):
    return value.isoformat() + "Z" if value else None


def job_url(job):
    return f"{API}/imports/{job.id}"


def job_json(job):
    """What the API says about a job (the ``GET`` answer, also the body of a 201)."""
    url = job_url(job)
    return {
        "id": job.id,
        "name": job.name,
        "profile": job.profile_id.code,
        "state": job.state,
        "file_name": job.file_name or None,
        "currency_rate": job.currency_rate or None,
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "progress": round(job.progress, 1),
        "rows_per_second": round(job.rows_per_second),
        "counts": {status: job[f"count_{status}"] for status in STATUSES},
        "count_applied": job.count_applied,
        "held_pending": job.held_pending,
        "error": job.error or None,
        "created_at": _iso(job.create_date),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "links": {
            "self": url,
            "confirm": f"{url}/confirm",
            "rejected": f"{url}/rejected?format=xlsx",
            "rejected_csv": f"{url}/rejected?format=csv",
        },
    }


def _authenticate():
    """Run the request as the API key's user: 401 without a valid key, 403 outside the import group."""
    scheme, _sep, key = request.httprequest.headers.get("Authorization", "").partition(" ")
    key = key.strip()
    uid = None
    if scheme.lower() == "bearer" and key:
        uid = request.env["res.users.apikeys"].sudo()._check_credentials(scope="rpc", key=key)
    if not uid:
        raise ApiError(
            401,
            "Нужен заголовок «Authorization: Bearer <ключ API>» с действующим ключом API пользователя Odoo "
            "(создаётся в настройках пользователя: «Безопасность аккаунта» → «Новый ключ API»).",
            {"WWW-Authenticate": 'Bearer realm="connector_b"'},
            code="unauthorized",
        )
    user = request.env["res.users"].sudo().browse(uid)
    lang = API_LANG if request.env["res.lang"].sudo()._lang_get_id(API_LANG) else user.lang
    request.update_env(user=uid, context=dict(request.env.context, lang=lang or "en_US"))
    if not request.env.user.has_group(IMPORT_GROUP):
        raise ApiError(
            403,
            f"Пользователь «{user.login}» не в группе «Импорт прайсов: пользователь»: загружать прайсы через "
            "API он не может. Попросите администратора добавить его в группу.",
            code="forbidden",
        )


def _job(job_id):
    """The job, if this user may read it; else 404 (an id the record rules hide is not told apart)."""
    job = request.env["connector.import.job"]
    if 0 < job_id <= MAX_ID:
        job = job.search([("id", "=", job_id)], limit=1)
    if not job:
        raise ApiError(404, f"Импорт с id {job_id} не найден (или недоступен этому пользователю).")
    return job


def _flag(value, name):
    text = (value or "").strip().lower()
    if text not in TRUE_VALUES + FALSE_VALUES:
        raise ApiError(400, f"Поле «{name}»: «{value}» — ожидается true или false.", code="invalid_field")
    return text in TRUE_VALUES


def _rate(value):
    text = (value or "").strip()
    if not text:
        return 0.0
    try:
        rate = float(text.replace(",", "."))
    except ValueError:
        rate = math.nan
    if not math.isfinite(rate) or rate <= 0:
        raise ApiError(
            400, f"Поле «currency_rate»: «{value}» — ожидается положительное число.", code="invalid_field"
        )
    return rate


def _profile(code):
    """The profile of ``code`` the user can read, in their current company first; else 422."""
    profiles = request.env["connector.import.profile"].search([("code", "=", code)])
    profile = profiles.filtered(lambda p: p.company_id == request.env.company)[:1] or profiles[:1]
    if not profile:
        raise ApiError(
            422,
            f"Профиль «{code}» не найден: укажите код профиля поставщика (Склад → Цены поставщиков → "
            "Профили).",
            code="unknown_profile",
        )
    return profile


def _read_upload():
    """The uploaded file's name and bytes (400 without one, 413 over ``MAX_UPLOAD_BYTES``)."""
    upload = request.httprequest.files.get("file")
    if upload is None:
        raise ApiError(
            400, "Нет файла: передайте прайс-лист в поле «file» (multipart/form-data).", code="missing_field"
        )
    content = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise ApiError(
            413,
            f"Файл больше {MAX_UPLOAD_BYTES // (1024 * 1024)} МиБ: разбейте прайс-лист на несколько файлов.",
            code="file_too_large",
        )
    if not content:
        raise ApiError(422, "Файл пуст.", code="file_refused")
    return upload.filename or "price-list", content


def _queue(job):
    """Queue a previewed job: 409 in another state or while the offline-tills block holds it."""
    if job.state != "previewed":
        raise ApiError(
            409,
            f"Импорт {job.name} в состоянии «{job.state}»: в очередь ставится только импорт после "
            "предпросмотра (previewed).",
            code="not_previewed",
        )
    try:
        job.action_confirm()  # the state is checked above: its refusal here is the block's
    except UserError as err:
        raise ApiError(409, err.args[0], code="import_blocked") from None


class ImportApi(http.Controller):
    def _serve(self, methods, handler, *args):
        """One API call: method, key, then ``handler``; every error answered as a problem document."""
        method = request.httprequest.method
        if method not in methods:
            return problem(
                405,
                f"Метод {method} здесь не поддерживается; используйте {', '.join(methods)}.",
                {"Allow": ", ".join(methods)},
                code="method_not_allowed",
            )
        try:
            _authenticate()
            return handler(*args)
        except ApiError as exc:
            return problem(exc.status, exc.detail, exc.headers, exc.code)
        except psycopg2.Error:
            raise  # Odoo replays the request on a serialization failure
        except AccessError as exc:
            request.env.cr.rollback()
            return problem(403, exc.args[0], code="forbidden")
        except UserError as exc:
            request.env.cr.rollback()
            return problem(422, exc.args[0], code="refused")
        except Exception:  # every error of the API is a problem document, never an HTML page
            request.env.cr.rollback()
            _logger.exception("import API %s %s failed", method, request.httprequest.path)
            return problem(500, "Odoo не смог обработать запрос; повторите его позже.", code="internal_error")

    @http.route(f"{API}/imports", type="http", auth="none", csrf=False, save_session=False)
    def imports(self, **_kwargs):
        return self._serve(("POST",), self._submit)

    @http.route(f"{API}/imports/<int:job_id>", type="http", auth="none", csrf=False, save_session=False)
    def import_job(self, job_id, **_kwargs):
        return self._serve(("GET",), lambda: json_response(job_json(_job(job_id))))

    @http.route(
        f"{API}/imports/<int:job_id>/confirm", type="http", auth="none", csrf=False, save_session=False
    )
    def confirm(self, job_id, **_kwargs):
        return self._serve(("POST",), self._confirm, job_id)

    @http.route(
        f"{API}/imports/<int:job_id>/rejected", type="http", auth="none", csrf=False, save_session=False
    )
    def rejected(self, job_id, **_kwargs):
        return self._serve(("GET",), self._rejected, job_id)

    @http.route(
        ["/connector_b/api", "/connector_b/api/<path:_rest>"],
        type="http",
        auth="none",
        csrf=False,
        save_session=False,
    )
    def not_found(self, **_kwargs):
        """Any other path under the API's prefix: a 404 problem, never Odoo's HTML page."""
        return problem(404, f"Нет такого адреса API: {request.httprequest.path}", code="not_found")

    def _submit(self):
        form = request.httprequest.form
        code = (form.get("profile") or "").strip()
        if not code:
            raise ApiError(
                400, "Не указан профиль: передайте код профиля в поле «profile».", code="missing_field"
            )
        rate = _rate(form.get("currency_rate"))
        confirm = _flag(form.get("confirm"), "confirm")
        file_name, content = _read_upload()
        profile = _profile(code)
        try:
            # A file the engine refuses leaves nothing behind: the job and its rows go with the savepoint.
            with request.env.cr.savepoint():
                job = request.env["connector.import.job"].create(
                    {
                        "profile_id": profile.id,
                        "company_id": profile.company_id.id,
                        "file": base64.b64encode(content),
                        "file_name": file_name,
                        "currency_rate": rate,
                    }
                )
                job.action_preview()
        except UserError as err:
            raise ApiError(422, err.args[0], code="file_refused") from None
        _logger.info(
            "import API: %s submitted %s (%d bytes, profile %s) as %s",
            request.env.user.login, file_name, len(content), code, job.name,
        )  # fmt: skip
        headers = {"Location": job_url(job)}
        if confirm:
            try:
                _queue(job)
            except ApiError as exc:  # the preview stays: the script may confirm it later
                exc.detail = (
                    f"Импорт {job.name} загружен и просмотрен, но не поставлен в очередь. {exc.detail}"
                )
                exc.headers = headers
                raise
        response = json_response(job_json(job))
        response.status_code = 201
        response.headers.update(headers)
        return response

    def _confirm(self, job_id):
        job = _job(job_id)
        _queue(job)
        return json_response(job_json(job))

    def _rejected(self, job_id):
        job = _job(job_id)
        fmt = request.httprequest.args.get("format", "xlsx")
        if fmt not in REPORT_MIMETYPES:
            raise ApiError(
                400, f"Параметр «format»: «{fmt}» — отчёт бывает xlsx или csv.", code="invalid_field"
            )
        content, mimetype, file_name = job._rejected_report(fmt)
        return request.make_response(
            content,
            headers=[
                ("Content-Type", f"{mimetype}; charset=utf-8" if fmt == "csv" else mimetype),
                ("Content-Disposition", content_disposition(file_name)),
                ("Content-Length", str(len(content))),
            ],
        )
