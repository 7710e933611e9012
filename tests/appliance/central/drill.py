"""The disaster-recovery drill of the central server (issue 19), run by test_booted_central.py.

With two tills (KKT emulator + adapter processes on the host, delivering to the central Odoo through nginx
over TLS 1.3) selling all along:

1. before the restore point: the tills sell and deliver; the back office books sale orders and a stock count;
2. the restore point (``pg_create_restore_point``, its WAL archived by pgBackRest);
3. after it: more sales delivered, more orders, another stock count — the part the restore must lose
   (orders and stock), and must not lose (fiscal documents: the tills re-deliver them);
4. the disaster: the server is wiped (no clean shutdown), the tills keep selling into their journals;
5. the rebuild by runbooks/restore-central-server.md: a fresh Debian 12, ``central.yml`` with
   ``-e central_postgresql_restore=true`` and the restore point as target;
6. the comparison: every fiscal document of the tills' journals in Odoo exactly once (checksum of receipt id
   + FN + FD + total on both sides), sale orders and stock as of the restore point.

Prints the measured RTO (wipe → Odoo serving again; wipe → every fiscal document back) against the target.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.appliance.central.harness import Central, Odoo
from tests.kit.fleet import Till, read_db, stop_tills, wait_all
from tests.kit.standins.common import StandinProcess

#: Target of this drill on the CI machine (issue 19); the owner's plan allows 1 h.
RTO_TARGET_SECONDS = 15 * 60
SALES = {"before": 12, "after": 6, "outage": 4}  # per till and phase
ORDERS = {"before": 3, "after": 2}
STOCK = {"before": 100.0, "after": 70.0}
ADMIN_LOGIN = "admin"


@dataclass
class Figures:
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"  {name:<58} {value:8.1f} s" for name, value in self.seconds.items()]
        out += [f"  {name:<58} {value:8d}" for name, value in self.counts.items()]
        return out


def journal_rows(tills: list[Till]) -> set[tuple[str, str, int, int]]:
    """(receipt id, FN, FD, total kopecks) of every receipt the tills' journals hold as signed."""
    rows: set[tuple[str, str, int, int]] = set()
    for till in tills:
        for rid, fn, fd, total in read_db(
            till.adapter.db_path,
            "SELECT id, fn_number, fd_number, total FROM receipts WHERE fd_number IS NOT NULL",
        ):
            rows.add((rid, fn, int(fd), int(total)))
    return rows


def odoo_rows(central: Central, fns: list[str]) -> list[tuple[str, str, int, int]]:
    """The same four fields of every fiscal document Odoo holds for these FNs (duplicates kept)."""
    fn_list = ", ".join(f"'{fn}'" for fn in fns)  # FN numbers the drill generated: digits only
    query = "SELECT receipt_id, fn_number, fd, total FROM optics_fiscal_document WHERE fn_number IN "
    rows = central.psql(query + f"({fn_list})")
    return [(r[0], r[1], int(r[2]), int(r[3])) for r in rows]


def checksum(rows) -> str:
    text = "\n".join("|".join(map(str, row)) for row in sorted(rows))
    return hashlib.sha256(text.encode()).hexdigest()


class BackOffice:
    """Sale orders and a stock count booked over XML-RPC: what the restore must bring back as it was."""

    def __init__(self, odoo: Odoo, tag: str):
        self.odoo, self.tag = odoo, tag
        self.partner = odoo.call("res.partner", "create", {"name": f"Drill customer {tag}"})
        self.product = odoo.call(
            "product.product",
            "create",
            {"name": f"Drill frame {tag}", "detailed_type": "product", "list_price": 4500},
        )
        [warehouse] = odoo.call("stock.warehouse", "search_read", [], fields=["lot_stock_id"], limit=1)
        self.location = warehouse["lot_stock_id"][0]

    def book(self, phase: str, orders: int, stock: float) -> None:
        for n in range(orders):
            line = {"product_id": self.product, "product_uom_qty": 1, "price_unit": 4500}
            ref = f"drill-{self.tag}-{phase}-{n}"
            order = self.odoo.call(
                "sale.order",
                "create",
                {"partner_id": self.partner, "client_order_ref": ref, "order_line": [(0, 0, line)]},
            )
            self.odoo.call("sale.order", "action_confirm", [order])
        # The product form's «Update Quantity» (a stock count at the warehouse's stock location).
        template = self.odoo.call("product.product", "read", [self.product], ["product_tmpl_id"])[0]
        wizard = self.odoo.call(
            "stock.change.product.qty",
            "create",
            {
                "product_id": self.product,
                "product_tmpl_id": template["product_tmpl_id"][0],
                "new_quantity": stock,
            },
        )
        self.odoo.call("stock.change.product.qty", "change_product_qty", [wizard])

    def state(self) -> tuple[list[str], float]:
        """The drill's sale orders (client refs, sorted) and the counted stock of its product."""
        orders = self.odoo.call(
            "sale.order",
            "search_read",
            [("client_order_ref", "like", f"drill-{self.tag}-")],
            fields=["client_order_ref"],
        )
        quants = self.odoo.call(
            "stock.quant",
            "search_read",
            [("product_id", "=", self.product), ("location_id", "=", self.location)],
            fields=["quantity"],
        )
        return sorted(o["client_order_ref"] for o in orders), sum(q["quantity"] for q in quants)


def metric_sum(till: Till, name: str) -> float:
    """The sum of a metric's samples on a till's /metrics."""
    text = till.session.get(till.adapter.url + "/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and not line.startswith("#") and line[len(name)] in " {"
    )


def sell(tills: list[Till], count: int) -> None:
    for _ in range(count):
        for till in tills:
            _, resp = till.sell()
            assert resp.status_code == 200 and resp.json()["status"] == "printed", resp.text[:300]


def wait_documents(central: Central, tills: list[Till], fns: list[str], timeout: float) -> float:
    """Waits until Odoo holds exactly the tills' signed receipts; returns how long it took."""
    started = time.monotonic()

    def complete() -> tuple[bool, str]:
        want = journal_rows(tills)
        try:
            have = odoo_rows(central, fns)
        except AssertionError as exc:  # the database is not there yet
            return False, str(exc)[:200]
        return sorted(have) == sorted(want), f"{len(have)} in Odoo of {len(want)} in the journals"

    wait_all({"fiscal documents in Odoo": complete}, timeout=timeout)
    return time.monotonic() - started


def run_drill(central: Central, workdir: Path, admin_password: str) -> Figures:
    """The drill on a converged server; returns its figures (asserts the comparison)."""
    figures = Figures()
    run = uuid.uuid4().hex[:6]
    cafile = central.certificate(workdir / "central.pem")
    odoo = central.odoo(cafile, ADMIN_LOGIN, admin_password)
    fns = {f"store900-drill{n}-{run}": f"9999{uuid.uuid4().int % 10**12:012d}" for n in (1, 2)}
    # Tills are registered (tokens issued) before the restore point: a till registered after it would be
    # unknown to the restored Odoo (runbooks/restore-central-server.md says to re-issue such tokens).
    tokens = {}
    for pos_id in fns:
        till_id = odoo.call("pos.offline.buffer.status", "create", {"name": pos_id, "pos_id": pos_id})
        action = odoo.call("pos.offline.buffer.status", "action_issue_token", [till_id])
        tokens[pos_id] = action["context"]["optics_clear_token"]
    ofd = StandinProcess.start("ofd", state_dir=workdir / "ofd")
    tills: list[Till] = []
    try:
        env = {"REQUESTS_CA_BUNDLE": str(cafile)}
        for pos_id, fn in fns.items():
            tills.append(
                Till.start(
                    workdir, pos_id, ofd_url=ofd.url, odoo_url=central.url, env=env,
                    odoo_token=tokens[pos_id], fn_number=fn,
                )
            )  # fmt: skip
        office = BackOffice(odoo, run)
        # 1. Before the restore point.
        sell(tills, SALES["before"])
        office.book("before", ORDERS["before"], STOCK["before"])
        wait_documents(central, tills, list(fns.values()), timeout=120)
        expected_office = office.state()
        # 2. The restore point, and its WAL in the repository (pgbackrest check switches and waits).
        point = f"drill_{run}"
        central.psql(f"SELECT pg_create_restore_point('{point}')", db="postgres")
        central.exec(
            "runuser", "-u", "postgres", "--", "pgbackrest", "--stanza=opticserp", "check", timeout=300
        )
        # 3. After it: delivered documents the restore loses and the tills must re-deliver.
        sell(tills, SALES["after"])
        office.book("after", ORDERS["after"], STOCK["after"])
        wait_documents(central, tills, list(fns.values()), timeout=120)
        central.exec(
            "runuser", "-u", "postgres", "--", "pgbackrest", "--stanza=opticserp", "check", timeout=300
        )
        delivered_before_wipe = len(journal_rows(tills))
        # 4. The disaster; the stores keep selling.
        wiped = time.monotonic()
        central.wipe()
        sell(tills, SALES["outage"])
        # 5. The rebuild by the runbook.
        figures.seconds["boot of a fresh Debian 12"] = central.up()
        took, _, _ = central.playbook(
            "-e", "central_postgresql_restore=true", "-e", f"central_postgresql_restore_target={point}"
        )
        figures.seconds["converge with the pgBackRest restore"] = took
        # The tills (REQUESTS_CA_BUNDLE, read per connection) and this test trust the rebuilt server too.
        central.certificate(cafile)
        figures.seconds["RTO: wipe → Odoo serving again"] = time.monotonic() - wiped
        odoo = office.odoo = central.odoo(cafile, ADMIN_LOGIN, admin_password)
        figures.seconds["re-delivery after the rebuild"] = wait_documents(
            central, tills, list(fns.values()), 300
        )
        figures.seconds["RTO: wipe → every fiscal document back"] = time.monotonic() - wiped
        # 6. The comparison.
        journal = journal_rows(tills)
        have = odoo_rows(central, list(fns.values()))
        figures.counts["fiscal documents in the tills' journals"] = len(journal)
        figures.counts["… delivered before the wipe"] = delivered_before_wipe
        figures.counts["fiscal documents in Odoo after the rebuild"] = len(have)
        figures.counts["… duplicated"] = len(have) - len(set(have))
        assert len(have) == len(set(have)) == len(journal), (len(have), len(set(have)), len(journal))
        assert checksum(have) == checksum(journal), "Odoo's documents differ from the tills' journals"
        assert office.state() == expected_office, (office.state(), expected_office)
        figures.counts["sale orders as of the restore point"] = len(expected_office[0])
        redelivered = sum(metric_sum(t, "kkt_odoo_redeliveries_total") for t in tills)
        figures.counts["receipts re-delivered by the tills"] = int(redelivered)
        print(
            "\nDR drill: checksum of receipt id + FN + FD + total equal on both sides "
            f"({checksum(have)[:16]}…); "
            f"orders {expected_office[0][:1]}… and stock {expected_office[1]:g} as of restore point {point}"
        )
        assert figures.seconds["RTO: wipe → every fiscal document back"] <= RTO_TARGET_SECONDS
        return figures
    finally:
        stop_tills(tills)
        ofd.stop()
