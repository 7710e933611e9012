"""Runbooks stay true: every alert has its page with the five sections on-call reads, no page has a
placeholder, and every command a page tells on-call to paste names a unit, a kktctl subcommand and metrics
that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from kkt_adapter.cli.kktctl import build_parser
from kkt_adapter.web.errors import PROBLEMS
from kkt_adapter.web.metrics import KKT_STATES

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = ROOT / "runbooks"
RULES = sorted((ROOT / "monitoring" / "rules").glob("*.yml"))
METRICS_SOURCE = ROOT / "appliance" / "kkt_adapter" / "web" / "metrics.py"
#: What on-call reads on every alert page, in this order (prometheus-operator runbooks, in Russian).
SECTIONS = ("Значение", "Влияние", "Диагностика", "Устранение", "Эскалация")
PLACEHOLDERS = re.compile(r"\b(TODO|TBD|FIXME|XXX)\b|lorem ipsum|<заполнить>", re.IGNORECASE)
#: Debian units the till's roles configure and the pages may name beside our own (systemd/).
DEBIAN_UNITS = {"nut-server", "nut-monitor", "nut-driver", "chrony", "nftables", "ssh", "systemd-journald"}
#: Debian units of the central server the monitoring pages name (packages: postgresql-15, nginx,
#: prometheus, prometheus-alertmanager and the exporters whose metrics monitoring/rules/central.rules.yml
#: reads); ``postgresql@15-main`` is the template instance of Debian's cluster.
DEBIAN_UNITS |= {
    "postgresql",
    "postgresql@15-main",
    "nginx",
    "prometheus",
    "prometheus-alertmanager",
    "prometheus-node-exporter",
    "prometheus-postgres-exporter",
    "prometheus-blackbox-exporter",
}
#: Suffixes Prometheus adds to a family's samples (counters, histograms, gauges of info).
SAMPLE_SUFFIXES = ("_total", "_bucket", "_sum", "_count", "_created")

SYSTEMCTL_VERBS = {
    "status",
    "start",
    "stop",
    "restart",
    "reload",
    "show",
    "is-active",
    "enable",
    "disable",
    "cat",
}
CODE_BLOCK = re.compile(r"```(?:sh|bash|console)\n(.*?)```", re.DOTALL)


def alerts() -> dict[str, str]:
    """Alert name → the page its ``runbook_url`` names (a P1/P2 pair may share one page)."""
    found = {}
    for rules in RULES:
        for group in yaml.safe_load(rules.read_text("utf-8"))["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    found[rule["alert"]] = rule["annotations"].get("runbook_url", "")
    return found


def pages() -> list[Path]:
    return sorted(p for p in RUNBOOKS.glob("*.md") if p.name != "README.md")


def commands(page: Path) -> list[list[str]]:
    """The shell commands of a page's code blocks, split into words (pipes and `sudo -u x` dropped)."""
    found = []
    for block in CODE_BLOCK.findall(page.read_text("utf-8")):
        for line in block.replace("\\\n", " ").splitlines():
            for part in re.split(r"\||&&|;", line.split(" #")[0]):
                try:
                    words = shlex.split(part)
                except ValueError:
                    words = part.split()
                while words[:1] == ["sudo"]:
                    words = words[3:] if words[1:2] == ["-u"] else words[1:]
                if words:
                    found.append(words)
    return found


def our_units() -> set[str]:
    return {p.name for p in (ROOT / "systemd").iterdir()}


def unit_exists(name: str) -> bool:
    if name.removesuffix(".service") in DEBIAN_UNITS:
        return True
    if "@" in name:  # an instance: ours is the template (name@.service), Debian's is listed by name
        prefix, _, rest = name.partition("@")
        suffix = rest.rsplit(".", 1)[1] if "." in rest else "service"
        return f"{prefix}@.{suffix}" in our_units() or prefix in DEBIAN_UNITS
    full = name if "." in name else f"{name}.service"
    return full in our_units() or name.removesuffix(".service") in DEBIAN_UNITS


def kktctl_choices(parser) -> dict:
    for action in parser._actions:  # argparse keeps subparsers only there
        if action.__class__.__name__ == "_SubParsersAction":
            return action.choices
    return {}


def exported_metrics() -> set[str]:
    return set(re.findall(r'"(kkt_[a-z_]+)"', METRICS_SOURCE.read_text("utf-8")))


@pytest.mark.parametrize(("alert", "url"), sorted(alerts().items()))
def test_every_alert_has_its_page_with_the_sections_on_call_reads(alert, url):
    assert re.fullmatch(r"runbooks/[A-Za-z]+\.md", url), f"{alert}: runbook_url {url!r}"
    page = ROOT / url
    assert page.exists(), f"{alert} fires without {url}"
    text = page.read_text("utf-8")
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert [h for h in headings if h in SECTIONS] == list(SECTIONS), f"{page.name}: sections {headings}"
    assert re.search(r"^Обновлено: \d{4}-\d{2}-\d{2}", text, re.MULTILINE), f"{page.name}: no update date"


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.name)
def test_no_page_has_a_placeholder(page):
    assert not PLACEHOLDERS.search(page.read_text("utf-8")), page.name


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.name)
def test_commands_name_units_subcommands_and_metrics_that_exist(page):
    top = kktctl_choices(build_parser())
    problems = []
    for words in commands(page):
        tool, args = words[0], [w for w in words[1:] if not w.startswith("-")]
        if tool == "systemctl" and args and args[0] in SYSTEMCTL_VERBS:
            problems += [f"unit {u}" for u in args[1:] if not unit_exists(u)]
        if tool == "journalctl" and "-u" in words:
            unit = words[words.index("-u") + 1]
            problems += [] if unit_exists(unit) else [f"unit {unit}"]
        if tool == "kktctl" and args:
            sub = top.get(args[0])
            if sub is None:
                problems.append(f"kktctl {args[0]}")
            elif kktctl_choices(sub) and len(args) > 1 and args[1] not in kktctl_choices(sub):
                problems.append(f"kktctl {args[0]} {args[1]}")
    metrics = exported_metrics()
    # Share the prefix, are not metrics: the adapter's problem codes (kkt_unavailable, …), the reasons of a
    # buffered receipt (kkt_<device state>: kkt_unreachable, kkt_error, …) and package names.
    not_metrics = set(PROBLEMS) | {f"kkt_{state}" for state in KKT_STATES} | {"kkt_adapter", "kkt_emulator"}
    for name in set(re.findall(r"\b(kkt_[a-z_]+)\b", page.read_text("utf-8"))):
        family = next((name.removesuffix(s) for s in SAMPLE_SUFFIXES if name.endswith(s)), name)
        if name not in metrics and family not in metrics and name not in not_metrics:
            problems.append(f"metric {name}")
    assert not problems, f"{page.name} names what does not exist: {sorted(set(problems))}"
