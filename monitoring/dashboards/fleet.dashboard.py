"""Grafana dashboard «OpticsERP — парк касс» as code (grafanalib): the owner's plan's four sections (§8.3).

1. «Статус касс» — the tills map: ``till:status:level`` (monitoring/rules/fleet.rules.yml) per till,
   0 green «OK», 1 yellow «Внимание», 2 red «Авария»; beside it the unreachable tills per store.
2. «Circuit Breaker» — each till's breaker per endpoint over the last 24 h (the dashboard's default range).
3. «Офлайн-буфер» — buffer fill per till (80 / 100 % as in till.rules.yml), the five fullest tills, the
   average sync run time per till and over the selected tills.
4. «Производительность» — print time P95 (7 s: PrintLatencyHigh), documents delivered per second, DLQ.

Every query filters on the ``store`` variable (``store=~"$store"``; «Все» is ``.*``) and reads the datasource
Grafana provisions with the fixed uid (monitoring/grafana/provisioning/datasources/opticserp.yml); the file
provider (provisioning/dashboards/opticserp.yml) loads the generated JSON.

Regenerate the committed JSON after every change here (tests/unit/test_dashboards.py compares them):

    .venv/bin/python monitoring/dashboards/fleet.dashboard.py

``monitoring/dashboards/queries.py`` lists every panel's queries from the JSON (no grafanalib needed).
"""

from __future__ import annotations

import json
from pathlib import Path

from grafanalib._gen import DashboardEncoder
from grafanalib.core import (
    BarGauge,
    Dashboard,
    GridPos,
    RowPanel,
    Stat,
    StateTimeline,
    StatValueMappingItem,
    StatValueMappings,
    Target,
    Template,
    Templating,
    Time,
    TimeSeries,
)

OUTPUT = Path(__file__).with_name("fleet.json")
#: The datasource provisioned by monitoring/grafana/provisioning/datasources/opticserp.yml.
DATASOURCE = {"type": "prometheus", "uid": "opticserp-prometheus"}
STORE = 'store=~"$store"'
#: Grafana 10.4's dashboard schema: the JSON is written in today's form, so no migration rewrites it on load.
SCHEMA_VERSION = 39
#: Panel heights in grid units (30 px); the width of the dashboard is 24 units.
ROW_H = 1


def _steps(*steps: tuple[str, float | None]) -> list[dict]:
    """Threshold steps in Grafana's current form (grafanalib's ``Threshold`` writes the Graph panel's)."""
    return [{"color": color, "value": value} for color, value in steps]


def _target(expr: str, legend: str, ref: str = "A", *, instant: bool = False) -> Target:
    return Target(
        expr=expr,
        legendFormat=legend,
        refId=ref,
        instant=instant,
        intervalFactor=1,
        datasource=DATASOURCE,
    )


# Status levels written by the recording rule till:status:level.
STATUS_MAPPINGS = [
    StatValueMappings(
        StatValueMappingItem("OK", "0", "green", index=0),
        StatValueMappingItem("Внимание", "1", "yellow", index=1),
        StatValueMappingItem("Авария", "2", "red", index=2),
    )
]
STATUS_STEPS = _steps(("green", None), ("yellow", 1), ("red", 2))
# Values of kkt_circuit_breaker_state (kkt_adapter/sync/breaker.py STATE_VALUES).
BREAKER_MAPPINGS = [
    StatValueMappings(
        StatValueMappingItem("CLOSED", "0", "green", index=0),
        StatValueMappingItem("OPEN", "1", "red", index=1),
        StatValueMappingItem("HALF_OPEN", "2", "yellow", index=2),
    )
]
# OfflineBufferWarning fires at 80 %, OfflineBufferFull at 100 % (monitoring/rules/till.rules.yml).
BUFFER_STEPS = _steps(("green", None), ("yellow", 80), ("red", 100))
# PrintLatencyHigh: P95 over 7 s, the cashier's limit from the owner's plan.
PRINT_STEPS = _steps(("green", None), ("red", 7))
# DLQNotEmpty: any document there was refused for good and needs a person.
DLQ_STEPS = _steps(("green", None), ("yellow", 1))


class TopBarGauge(BarGauge):
    """Bar gauge in Grafana's current JSON: grafanalib's ``BarGauge`` also writes the Grafana 6
    ``options.fieldOptions`` block, which Grafana's migration would copy over ``fieldConfig``."""

    def to_json_data(self):
        data = super().to_json_data()
        del data["options"]["fieldOptions"]
        return data


def _row(title: str, y: int) -> RowPanel:
    return RowPanel(title=title, gridPos=GridPos(h=ROW_H, w=24, x=0, y=y))


def _timeseries(**options) -> TimeSeries:
    """A time series panel with the house defaults: the provisioned datasource, a table legend below the graph
    with mean and max, a tooltip listing every till, the worst first."""
    defaults = {
        "dataSource": DATASOURCE,
        "legendDisplayMode": "table",
        "legendPlacement": "bottom",
        "legendCalcs": ["mean", "max"],
        "tooltipMode": "multi",
        "tooltipSort": "desc",
    }
    return TimeSeries(**{**defaults, **options})


def status_section(y: int) -> list:
    """«Статус касс»: one coloured tile per till, and the stores' unreachable tills."""
    tills = Stat(
        title="Кассы: зелёный / жёлтый / красный",
        description=(
            "Уровень кассы из правила till:status:level. Красный (Авария): касса не опрашивается, буфер "
            "заполнен на 100 %, диск полон или ККТ не отвечает — касса не продаёт. Жёлтый (Внимание): буфер "
            "≥ 80 %, открыт circuit breaker или есть документы в DLQ."
        ),
        dataSource=DATASOURCE,
        targets=[_target(f"till:status:level{{{STORE}}}", "{{pos_id}}", instant=True)],
        mappings=STATUS_MAPPINGS,
        thresholds=STATUS_STEPS,
        colorMode="background",
        graphMode="none",
        textMode="value_and_name",
        reduceCalc="lastNotNull",
        orientation="auto",
        noValue="нет данных",
        gridPos=GridPos(h=9, w=18, x=0, y=y),
        extraJson={"fieldConfig": {"defaults": {"color": {"mode": "thresholds"}}}},
    )
    stores = Stat(
        title="Недоступные кассы по магазинам",
        description="Кассы магазина, которые Prometheus не может опросить (store:tills_down:count).",
        dataSource=DATASOURCE,
        targets=[_target(f"store:tills_down:count{{{STORE}}}", "{{store}}", instant=True)],
        thresholds=_steps(("green", None), ("red", 1)),
        colorMode="background",
        graphMode="none",
        textMode="value_and_name",
        reduceCalc="lastNotNull",
        format="short",
        noValue="нет данных",
        gridPos=GridPos(h=9, w=6, x=18, y=y),
        extraJson={"fieldConfig": {"defaults": {"color": {"mode": "thresholds"}}}},
    )
    return [_row("Статус касс", y - ROW_H), tills, stores]


def breaker_section(y: int) -> list:
    """«Circuit Breaker»: the state of each till's breaker per endpoint (OFD, Odoo) over time."""
    timeline = StateTimeline(
        title="Circuit breaker: состояние по кассам и адресатам",
        description=(
            "CLOSED — доставка идёт; OPEN — адресат (ОФД или Odoo) не отвечает, попытки приостановлены; "
            "HALF_OPEN — пробная доставка. OPEN дольше 5 минут — алерт CircuitBreakerOpen."
        ),
        dataSource=DATASOURCE,
        targets=[_target(f"kkt_circuit_breaker_state{{{STORE}}}", "{{pos_id}} → {{endpoint}}")],
        mappings=BREAKER_MAPPINGS,
        thresholds=_steps(("green", None), ("red", 1), ("yellow", 2)),
        colorMode="thresholds",
        fillOpacity=80,
        showValue="never",
        rowHeight=0.8,
        # One point per ~90 s over the default 24 h: a short OPEN stays visible.
        maxDataPoints=1000,
        gridPos=GridPos(h=14, w=24, x=0, y=y),
    )
    return [_row("Circuit Breaker", y - ROW_H), timeline]


def buffer_section(y: int) -> list:
    """«Офлайн-буфер»: fill per till, the five fullest tills, average sync time."""
    fill = _timeseries(
        title="Заполнение офлайн-буфера",
        description=(
            "Доля ёмкости буфера, занятая недоставленными чеками: 80 % — предупреждение, 100 % — касса "
            "отказывает в новых чеках."
        ),
        targets=[_target(f"kkt_buffer_percent_full{{{STORE}}}", "{{pos_id}}")],
        unit="percent",
        thresholds=BUFFER_STEPS,
        thresholdsStyleMode="line+area",
        valueMin=0,
        axisSoftMax=100,
        legendPlacement="right",
        legendCalcs=["lastNotNull", "max"],
        gridPos=GridPos(h=9, w=12, x=0, y=y),
    )
    top = TopBarGauge(
        title="Топ-5 касс по заполнению буфера",
        dataSource=DATASOURCE,
        targets=[_target(f"topk(5, kkt_buffer_percent_full{{{STORE}}})", "{{pos_id}}", instant=True)],
        displayMode="gradient",
        orientation="horizontal",
        thresholds=BUFFER_STEPS,
        gridPos=GridPos(h=9, w=6, x=12, y=y),
        extraJson={
            "fieldConfig": {
                "defaults": {"unit": "percent", "min": 0, "max": 100, "color": {"mode": "thresholds"}}
            },
            "options": {
                "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                "showUnfilled": True,
            },
        },
    )
    # Per till: rate of the histogram's sum over the rate of its count. A till whose sync has not run in the
    # window divides 0 by the floor 1e-9 and reads 0 s instead of NaN.
    per_till = (
        f"sum by (pos_id) (rate(kkt_sync_duration_seconds_sum{{{STORE}}}[5m]))"
        f" / clamp_min(sum by (pos_id) (rate(kkt_sync_duration_seconds_count{{{STORE}}}[5m])), 1e-9)"
    )
    overall = (
        f"sum(rate(kkt_sync_duration_seconds_sum{{{STORE}}}[5m]))"
        f" / clamp_min(sum(rate(kkt_sync_duration_seconds_count{{{STORE}}}[5m])), 1e-9)"
    )
    sync = _timeseries(
        title="Среднее время синхронизации",
        description="Средняя длительность прогона синхронизации за 5 минут: по кассам и по всем выбранным.",
        targets=[_target(per_till, "{{pos_id}}"), _target(overall, "Все выбранные кассы", "B")],
        unit="s",
        valueMin=0,
        thresholds=_steps(("green", None)),
        gridPos=GridPos(h=9, w=6, x=18, y=y),
    )
    return [_row("Офлайн-буфер", y - ROW_H), fill, top, sync]


def performance_section(y: int) -> list:
    """«Производительность»: print P95, delivery throughput, dead letter queue."""
    p95 = _timeseries(
        title="Время печати чека, P95",
        description="95-й перцентиль времени от журнала до подписи ФН за 5 минут; предел кассира — 7 с.",
        targets=[
            _target(
                "histogram_quantile(0.95, sum by (pos_id, le) "
                f"(rate(kkt_print_duration_seconds_bucket{{{STORE}}}[5m])))",
                "{{pos_id}}",
            )
        ],
        unit="s",
        valueMin=0,
        thresholds=PRINT_STEPS,
        thresholdsStyleMode="line",
        gridPos=GridPos(h=9, w=8, x=0, y=y),
    )
    throughput = _timeseries(
        title="Пропускная способность синхронизации",
        description="Документы, доставленные в ОФД и Odoo, в секунду (за 5 минут).",
        targets=[
            _target(f"sum by (pos_id) (rate(kkt_documents_delivered_total{{{STORE}}}[5m]))", "{{pos_id}}")
        ],
        unit="ops",
        valueMin=0,
        thresholds=_steps(("green", None)),
        gridPos=GridPos(h=9, w=8, x=8, y=y),
    )
    dlq = _timeseries(
        title="Документы в DLQ",
        description="Документы, окончательно отклонённые ОФД или Odoo: ждут разбора (kktctl dlq).",
        targets=[_target(f"kkt_dlq_size{{{STORE}}}", "{{pos_id}}")],
        unit="short",
        valueMin=0,
        valueDecimals=0,
        thresholds=DLQ_STEPS,
        thresholdsStyleMode="line",
        legendCalcs=["lastNotNull", "max"],
        gridPos=GridPos(h=9, w=8, x=16, y=y),
    )
    return [_row("Производительность", y - ROW_H), p95, throughput, dlq]


STORE_VARIABLE = Template(
    name="store",
    label="Магазин",
    query='label_values(up{job="kkt-adapter"}, store)',
    dataSource=DATASOURCE,
    multi=True,
    includeAll=True,
    # «Все» matches every store, including one added after the dashboard was loaded.
    allValue=".*",
    default="$__all",
    refresh=2,  # on time range change: a new store's tills appear without reloading the dashboard
)

dashboard = Dashboard(
    title="OpticsERP — парк касс",
    uid="opticserp-fleet",
    description="Кассы всех магазинов: статус, circuit breaker, офлайн-буфер, производительность.",
    tags=["opticserp", "kkt"],
    # Provisioned from this repository: changes are made here and regenerated, not in the UI.
    editable=False,
    timezone="browser",
    time=Time("now-24h", "now"),
    refresh="1m",
    schemaVersion=SCHEMA_VERSION,
    templating=Templating(list=[STORE_VARIABLE]),
    panels=[
        *status_section(1),
        *breaker_section(11),
        *buffer_section(26),
        *performance_section(36),
    ],
).auto_panel_ids()


def render() -> str:
    """The dashboard as the committed JSON text (sorted keys, two-space indent, Cyrillic kept readable)."""
    data = dashboard.to_json_data()
    return json.dumps(data, cls=DashboardEncoder, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT}")
