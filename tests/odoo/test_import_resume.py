"""kill -9 of the Odoo server running a price import mid-file, restart → the job finishes, every row once.

"Mid-file" and "mid-chunk" are made certain, not hoped for: once the runner has committed a few chunks, a
transaction of the test takes the job's row lock (``FOR NO KEY UPDATE``: the vendor lines' foreign key to
the job still passes), so the runner's next chunk — its products, vendor lines
and log lines already inserted — waits at its final write of the job's progress when the whole server
(master, workers, cron) gets SIGKILL. That chunk must vanish with the server; the committed ones stay; the
restarted server's cron resumes at ``next_chunk`` and every row lands exactly once.
"""

from __future__ import annotations

import base64
import csv
import io
import subprocess
import time
import uuid

import pytest

from tests.kit.odoo_server import Bench, OdooServer

ROWS = 8000
CHUNK = 500
#: The restarted server's cron picks the job up at its next tick (one-minute interval) or from the trigger
#: the killed run left behind.
RESUME_TIMEOUT = 240


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def price_list(prefix: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Артикул", "Наименование", "Ед. изм.", "Цена"])
    for i in range(ROWS):
        writer.writerow([f"{prefix}-{i:05d}", f"Футляр {prefix} {i}", "шт", f"{300 + i % 700},50"])
    return out.getvalue().encode("cp1251")


def test_a_server_killed_mid_import_resumes_and_applies_every_row_once(bench: Bench) -> None:
    prefix = "R" + uuid.uuid4().hex[:6].upper()
    server = OdooServer(bench, "import-kill9", cron_threads=1).start()
    blocker = None
    try:
        supplier = server.call("res.partner", "create", {"name": f"Поставщик {prefix}", "is_company": True})
        config = {
            "columns": {
                "supplier_sku": "Артикул",
                "name": "Наименование",
                "unit": "Ед. изм.",
                "price": "Цена",
            },
            "upsert_key": "supplier_sku",
            "chunk_size": CHUNK,
        }
        profile = server.call(
            "connector.import.profile",
            "create",
            {"name": f"Прайс {prefix}", "code": prefix.lower(), "supplier_id": supplier, "config": config},
        )
        job = server.call(
            "connector.import.job",
            "create",
            {
                "profile_id": profile,
                "file": base64.b64encode(price_list(prefix)).decode(),
                "file_name": "p.csv",
            },
        )
        server.call("connector.import.job", "action_preview", [job])
        began = time.monotonic()
        server.call("connector.import.job", "action_confirm", [job])

        def progress() -> tuple[int, int, str]:
            chunk, done, state = (
                bench.sql(f"SELECT next_chunk, rows_done, state FROM connector_import_job WHERE id = {job}")
                .strip()
                .split("|")
            )
            return int(chunk), int(done), state

        first = wait_for(lambda: (p := progress())[0] >= 1 and p, 120, "the first chunk")
        wait_for(lambda: progress()[0] >= 3, 120, "three chunks committed")
        assert progress()[2] == "running"
        second = progress()
        assert second[1] > first[1], "rows_done moves while the job runs"
        rate = float(bench.sql(f"SELECT rows_per_second FROM connector_import_job WHERE id = {job}").strip())
        assert rate > 0

        blocker = subprocess.Popen(
            bench.psql_command(), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        assert blocker.stdin is not None
        blocker.stdin.write(
            f"BEGIN;\nSELECT 1 FROM connector_import_job WHERE id = {job} FOR NO KEY UPDATE;\n"
        )
        blocker.stdin.flush()
        waiting = (
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE '%UPDATE%connector_import_job%'"
        )
        wait_for(lambda: bench.sql(waiting).strip() == "1", 120, "the runner to wait on the job's row")
        committed, _done, state = progress()
        assert state == "running" and committed < ROWS // CHUNK
        in_flight = bench.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND backend_xid IS NOT NULL"
        ).strip()
        assert in_flight == "1", "the waiting chunk has written (holds a transaction id)"
        server.kill()
        killed_at = time.monotonic()
        blocker.stdin.write("ROLLBACK;\n")
        blocker.stdin.close()
        blocker.wait(timeout=30)
        blocker = None

        lines = f"SELECT count(*) FROM product_supplierinfo WHERE partner_id = {supplier}"
        assert progress() == (committed, committed * CHUNK, "running")
        assert bench.sql(lines).strip() == str(committed * CHUNK), "the chunk in flight vanished whole"

        server = OdooServer(bench, "import-kill9-restarted", cron_threads=1).start()
        wait_for(
            lambda: progress()[2] in ("done", "failed"), RESUME_TIMEOUT, "the job to finish after restart"
        )
        resumed_in = time.monotonic() - killed_at
        final = bench.sql(
            f"SELECT state, rows_done, count_applied, error FROM connector_import_job WHERE id = {job}"
        ).strip()
        assert final.startswith(f"done|{ROWS}|{ROWS}|"), final
        once = bench.sql(
            f"SELECT count(*), count(DISTINCT product_code), count(DISTINCT product_tmpl_id) "
            f"FROM product_supplierinfo WHERE partner_id = {supplier}"
        ).strip()
        assert once == f"{ROWS}|{ROWS}|{ROWS}", once
        templates = bench.sql(
            "SELECT count(*), count(DISTINCT default_code) FROM product_template "
            f"WHERE default_code LIKE '{prefix}-%'"
        ).strip()
        assert templates == f"{ROWS}|{ROWS}", templates
        logged = bench.sql(
            f"SELECT count(*), count(DISTINCT row_number) FROM connector_import_log "
            f"WHERE job_id = {job} AND phase = 'run'"
        ).strip()
        assert logged == f"{ROWS}|{ROWS}", logged
        print(
            f"\nimport resume after kill -9: {ROWS} rows in chunks of {CHUNK}; "
            f"killed with {committed} chunks "
            f"committed and chunk {committed} in flight; finished {resumed_in:.1f} s after the kill "
            f"(restart + cron pick-up + {ROWS - committed * CHUNK} rows); "
            f"total {time.monotonic() - began:.1f} s; "
            f"every row once ({once})"
        )
    finally:
        if blocker is not None:
            blocker.kill()
        server.stop()
