"""The project's Odoo 17 bench (``make test-odoo``): everything our addons' tests need, set up by itself.

From an Odoo 17.0 source tree (``ODOO_SRC``, else ``/opt/odoo17``; never committed — see docs/odoo-bench.md):

1. Debian packages: PostgreSQL 15, Chromium (``HttpCase`` tours), the headers Odoo's requirements compile
   against (libpq, libldap2, libsasl2);
2. a PostgreSQL cluster of its own under ``build/odoo-bench/pg`` on a unix socket (port ``BENCH_PG_PORT``),
   started here, with a dedicated login role — Odoo refuses the ``postgres`` superuser;
3. a venv under ``build/odoo-bench/venv`` from Odoo's ``requirements.txt`` plus ``websocket-client`` (without
   it every ``HttpCase`` is silently skipped), the OCA dependencies our addons declare and the libraries they
   pin in ``addons/<addon>/requirements.txt``, rebuilt only when those inputs change;
4. a fresh database per run (the cluster is stopped again at the end); our addons (every folder of
   ``addons/`` with a ``__manifest__.py``) installed with ``--test-enable``, only their tests run; the
   counts parsed from Odoo's own log: tests run, failed, errors, skipped;
5. the scenarios that need real servers (``tests/odoo``: concurrency, kill -9), the till contract suite
   against the addon and the Odoo benchmarks, with pytest on ``odoo-bin --workers=2`` servers on that
   database;
6. a copy of the database as it was right after the install (``CLEAN_DB``, with its filestore), kept after
   the run: the booted till's kiosk test (``make test-appliance``, run after this suite) shows the real POS
   from a copy of it (``clean_copy``).

Exit status 1 on any failed test, any error logged, zero tests, or (``CI=true``) any skipped test: Odoo
turns a Chromium that did not start into a skip, and a skip proves nothing.

``make test-odoo`` runs all of it. CI (tests/setup/run-suites.py) splits it: ``--no-benchmarks`` beside the
other correctness suites, then ``--benchmarks-only`` alone (on a copy of ``CLEAN_DB``), as the Odoo
benchmarks' figures need the machine to themselves.

Usage: tests/setup/odoo_bench.py [--keep-db] [--addons a,b] [--no-scenarios | --no-benchmarks |
--benchmarks-only]
(as root: apt and the cluster's OS user)
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "build" / "odoo-bench"
ADDONS = ROOT / "addons"
DEFAULT_SRC = Path("/opt/odoo17")
PG_BIN = Path("/usr/lib/postgresql/15/bin")
#: A port of its own so a PostgreSQL already on the machine (5432) is never touched.
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "55432"))
PG_ROLE = "opticserp_bench"  # Odoo refuses to run as "postgres"
PG_OS_USER = "postgres"  # initdb and the server refuse root; Debian's package creates this user
APT_PACKAGES = (
    "postgresql-15",
    "chromium",
    "libpq-dev",
    "libldap2-dev",
    "libsasl2-dev",
    "python3-dev",
)
#: Extra pins beside Odoo's requirements.txt (HttpCase talks to Chromium through websocket-client).
EXTRA_REQUIREMENTS = ("websocket-client==1.8.0",)
#: Wall-clock limit of one test run (installing our addons and running their tests).
RUN_TIMEOUT = float(os.environ.get("BENCH_TIMEOUT_SECONDS", "1800"))
#: Run after the install tests on real servers (pytest, the repo's venv): tests/odoo, the contract suite and
#: the ingest benchmark (tests/load/conftest.py collects it only here).
#: Scenarios on real servers with no timed target: ``--no-benchmarks`` runs them beside other suites.
SCENARIOS = ("tests/odoo", "tests/integration/test_till_contract.py")
#: Benchmarks on real servers: their figures need the machine to themselves (``--benchmarks-only``).
BENCHMARKS = (
    "tests/load/test_odoo_ingest_benchmark.py",
    "tests/load/test_lens_grid_benchmark.py",
    "tests/load/test_pos_wait_benchmark.py",
    "tests/load/test_connector_import_benchmark.py",
)
RESULT = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")
LOG_LEVEL = re.compile(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ")
#: OdooTestResult.addSkip logs through the test's own logger: "<logger>: skipped Class.method : reason".
SKIPPED = re.compile(r"^\S+ \S+ \d+ INFO \S+ \S+: skipped \S+ : ")
#: Every record of Odoo's log starts with its timestamp; lines without one continue the record (tracebacks).
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")
#: How much of each ERROR record the final summary repeats: enough to name the test and the assertion.
EXCERPT_WIDTH = 300
EXCERPT_TAIL = 4


#: The database kept after a run (see 6. above); each user works on a copy of it.
CLEAN_DB = "bench_clean"
#: odoo-bin's default data dir for root (no --data-dir is passed): attachments live in filestore/<database>.
FILESTORE = Path.home() / ".local" / "share" / "Odoo" / "filestore"


class BenchError(RuntimeError):
    """The bench could not be set up or run; the message says what to do."""


def odoo_src() -> Path:
    src = Path(os.environ.get("ODOO_SRC") or DEFAULT_SRC)
    if not (src / "odoo-bin").is_file() or not (src / "odoo" / "addons" / "base").is_dir():
        raise BenchError(f"no Odoo 17.0 tree at {src} (set ODOO_SRC; docs/odoo-bench.md says how to get one)")
    return src


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kwargs)


# --- 1. Debian packages -------------------------------------------------------------------------------


def ensure_apt() -> None:
    missing = [
        p
        for p in APT_PACKAGES
        if subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True).stdout
        != "install ok installed"
    ]
    if not missing:
        return
    print(f"odoo-bench: apt-get install {' '.join(missing)}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)


# --- 2. PostgreSQL ------------------------------------------------------------------------------------


@dataclass
class Postgres:
    data: Path = BENCH / "pg" / "data"
    socket_dir: Path = BENCH / "pg" / "run"
    port: int = PG_PORT

    def _as_postgres(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(["runuser", "-u", PG_OS_USER, "--", *args], **kwargs)

    def _pg_ctl(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args, **kwargs)

    def start(self) -> None:
        for folder in (self.data, self.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
            shutil.chown(folder, PG_OS_USER, PG_OS_USER)
        if not (self.data / "PG_VERSION").exists():
            initdb = [
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                PG_OS_USER,
                "--auth=trust",
                "-E",
                "UTF8",
            ]
            self._as_postgres(*initdb, stdout=subprocess.DEVNULL, check=True)
        if self._pg_ctl("status", capture_output=True).returncode != 0:
            # Unix socket only, no TCP; fsync off: a bench database is thrown away after the run.
            options = f"-k {self.socket_dir} -p {self.port} -c listen_addresses='' -c fsync=off"
            log = str(self.socket_dir / "server.log")
            self._pg_ctl("-l", log, "-o", options, "-w", "start", stdout=subprocess.DEVNULL, check=True)
        if self.psql("SELECT 1 FROM pg_roles WHERE rolname = :'role'", role=PG_ROLE).strip() != "1":
            self.psql(f"CREATE ROLE {PG_ROLE} LOGIN CREATEDB")

    def psql(self, sql: str, **variables: str) -> str:
        """Run one statement as the cluster's superuser; ``:'name'`` placeholders are psql variables."""
        cmd = [str(PG_BIN / "psql"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", PG_OS_USER]
        cmd += ["-d", "postgres", "-tA", *(f"-v{k}={v}" for k, v in variables.items())]
        return self._as_postgres(*cmd, input=sql, capture_output=True, text=True, check=True).stdout

    def stop(self) -> None:
        """Stop the cluster (its data stays for the next run): the bench leaves no server behind."""
        self._pg_ctl("-m", "fast", "-w", "stop", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def drop(self, database: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{database}"')


# --- 3. the venv --------------------------------------------------------------------------------------


def oca_requirements() -> list[str]:
    """The PyPI OCA modules our addons declare (``external_dependencies`` are Odoo's; OCA addons come as
    ``odoo-addon-*`` wheels, pinned in addons/oca-requirements.txt when an addon needs one)."""
    pinned = ADDONS / "oca-requirements.txt"
    if not pinned.is_file():
        return []
    return [
        line.strip() for line in pinned.read_text().splitlines() if line.strip() and not line.startswith("#")
    ]


def addon_requirements() -> list[str]:
    """The Python libraries our addons import, pinned once in ``addons/<addon>/requirements.txt`` (the same
    files the Makefile installs into the repo's venv for the addons' plain-Python tests)."""
    lines: list[str] = []
    for pinned in sorted(ADDONS.glob("*/requirements.txt")):
        lines += [line.strip() for line in pinned.read_text().splitlines() if line.strip()]
    return [line for line in lines if not line.startswith("#")]


def ensure_venv(src: Path) -> Path:
    venv = BENCH / "venv"
    inputs = (src / "requirements.txt").read_bytes() + "\n".join(
        [*EXTRA_REQUIREMENTS, *oca_requirements(), *addon_requirements()]
    ).encode()
    stamp = venv / ".bench-inputs"
    digest = hashlib.sha256(inputs).hexdigest()
    if stamp.is_file() and stamp.read_text() == digest:
        return venv
    print("odoo-bench: building the Odoo venv (Odoo's requirements.txt; minutes the first time)", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    run([sys.executable, "-m", "venv", str(venv)])
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    run([*pip, "pip==24.3.1", "wheel==0.45.1", "setuptools==75.8.0"])
    run([*pip, "-r", str(src / "requirements.txt"), *EXTRA_REQUIREMENTS, *addon_requirements()])
    if oca_requirements():
        # --no-deps: every odoo-addon-* wheel requires the `odoo` distribution, which here is the source
        # tree itself (pip would fetch Odoo from PyPI over it); their Python libraries are Odoo's own.
        run([*pip, "--no-deps", *oca_requirements()])
    stamp.write_text(digest)
    return venv


# --- 4. the run ---------------------------------------------------------------------------------------


@dataclass
class Counts:
    run: int
    failed: int
    errors: int
    skipped: int
    logged_errors: int
    #: Each ERROR/CRITICAL line with the last lines of its traceback: the bench prints them as its very last
    #: output, so a CI that keeps only the tail of the log still names the failed test and why.
    excerpts: tuple[str, ...] = ()

    def line(self) -> str:
        return (f"tests run {self.run}, failed {self.failed}, errors {self.errors}, skipped {self.skipped}, "
                f"ERROR lines {self.logged_errors}")  # fmt: skip


def parse_log(text: str) -> Counts:
    """Counts from Odoo's log: its final ``N failed, M error(s) of T tests`` line, skip lines, ERROR lines."""
    found = RESULT.findall(text)
    if not found:
        raise BenchError("Odoo's log has no test result line: the run did not get to the tests (see the log)")
    failed, errors, total = (int(x) for x in found[-1])
    lines = text.splitlines()
    skipped = sum(1 for line in lines if SKIPPED.search(line))
    logged = [i for i, line in enumerate(lines) if LOG_LEVEL.match(line)]
    return Counts(total, failed, errors, skipped, len(logged), tuple(excerpt(lines, i) for i in logged))


def excerpt(lines: list[str], at: int, tail: int = EXCERPT_TAIL) -> str:
    """The log line ``at`` (shortened) and the last ``tail`` lines of the traceback that follows it."""
    follow = []
    for line in lines[at + 1 :]:
        if TIMESTAMP.match(line):
            break
        follow.append(line.rstrip())
    head = lines[at] if len(lines[at]) <= EXCERPT_WIDTH else lines[at][:EXCERPT_WIDTH] + " …"
    return "\n".join(
        [head, *(f"    {line.strip()[:EXCERPT_WIDTH]}" for line in follow[-tail:] if line.strip())]
    )


def our_addons(only: list[str] | None) -> list[str]:
    found = sorted(p.parent.name for p in ADDONS.glob("*/__manifest__.py")) if ADDONS.is_dir() else []
    if only:
        unknown = set(only) - set(found)
        if unknown:
            raise BenchError(f"no such addon in addons/: {', '.join(sorted(unknown))}")
        return only
    return found


def free_port() -> int:
    """A free TCP port on loopback for this run's HttpCase server (never one a stray server still holds)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def odoo_command(src: Path, venv: Path, pg: Postgres) -> list[str]:
    addons_path = ",".join(str(p) for p in (src / "odoo" / "addons", ADDONS))
    return [
        str(venv / "bin" / "python"), str(src / "odoo-bin"),
        "--addons-path", addons_path, "--db_host", str(pg.socket_dir), "--db_port", str(pg.port),
        "--db_user", PG_ROLE,
    ]  # fmt: skip


def run_tests(src: Path, venv: Path, pg: Postgres, addons: list[str], database: str) -> Counts:
    """Install ``addons`` on a fresh ``database`` with ``--test-enable``; the counts from Odoo's log."""
    log_path = BENCH / "test.log"
    cmd = [
        *odoo_command(src, venv, pg),
        "-d", database, "--without-demo=", "--test-enable", "--stop-after-init",
        "--log-level=info", "--http-port", str(free_port()), "--max-cron-threads=0",
        "-i", ",".join(addons),
        # Only our addons' tests: installing them on a fresh database also installs base, web, … whose own
        # suites would otherwise run too (an hour, and not ours to keep green).
        "--test-tags", ",".join(f"/{a}" for a in addons),
    ]  # fmt: skip
    started = time.monotonic()
    print(f"odoo-bench: installing {', '.join(addons)} with --test-enable on {database}", flush=True)
    with open(log_path, "w", encoding="utf-8") as log:
        # Its own process group: a timeout or an interrupted bench takes Odoo and its Chromium down with it.
        # OPTICS_REPO: the POS tours start a real till (emulator + adapter) from the repository's test kit
        # and venv (addons/optics_pos_ru54fz/tests/till.py).
        env = {**os.environ, "OPTICS_REPO": str(ROOT)}
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, cwd=BENCH, env=env, start_new_session=True
        )
        try:
            proc.wait(timeout=RUN_TIMEOUT)
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
    counts = parse_log(log_path.read_text(encoding="utf-8", errors="replace"))
    took = time.monotonic() - started
    print(f"odoo-bench: {counts.line()} ({took:.0f} s; log {log_path}, exit {proc.returncode})")
    return counts


def msgids(text: str) -> set[str]:
    """The msgids of a .po/.pot file, continuation lines joined (escapes kept: both sides come from Odoo)."""
    found, current = set(), None
    for line in text.splitlines():
        if line.startswith("msgid "):
            current = [line[len("msgid ") :].strip()[1:-1]]
        elif current is not None and line.startswith('"'):
            current.append(line.strip()[1:-1])
        elif current is not None:
            found.add("".join(current))
            current = None
    return found - {""}


def stale_terms(src: Path, venv: Path, pg: Postgres, database: str, addons: list[str]) -> list[str]:
    """Addons whose committed ``i18n/<addon>.pot`` no longer matches the terms Odoo exports from the code."""
    stale = []
    for addon in addons:
        committed = ADDONS / addon / "i18n" / f"{addon}.pot"
        if not committed.is_file():
            stale.append(f"{addon}: no i18n/{addon}.pot (every string needs its Russian translation)")
            continue
        exported = BENCH / f"{addon}.pot"
        cmd = [*odoo_command(src, venv, pg), "-d", database, f"--i18n-export={exported}",
               f"--modules={addon}", "--stop-after-init", "--log-level=warn"]  # fmt: skip
        subprocess.run(cmd, cwd=BENCH, check=True, capture_output=True, timeout=600)
        now, then = (
            msgids(exported.read_text(encoding="utf-8")),
            msgids(committed.read_text(encoding="utf-8")),
        )
        if now != then:
            stale.append(
                f"{addon}: i18n/{addon}.pot is stale ({len(now - then)} new, {len(then - now)} gone terms): "
                f"export it again and translate ru.po (docs/odoo-bench.md)"
            )
    return stale


def copy_database(pg: Postgres, source: str, target: str) -> None:
    """``target`` as a copy of ``source`` (no session may be open on it), filestore included."""
    pg.drop(target)
    pg.psql(f'CREATE DATABASE "{target}" OWNER {PG_ROLE} TEMPLATE "{source}"')
    shutil.rmtree(FILESTORE / target, ignore_errors=True)
    if (FILESTORE / source).is_dir():
        shutil.copytree(FILESTORE / source, FILESTORE / target)


def drop_database(pg: Postgres, database: str) -> None:
    pg.drop(database)
    shutil.rmtree(FILESTORE / database, ignore_errors=True)


def bench_env(src: Path, venv: Path, pg: Postgres, database: str) -> dict[str, str]:
    """The ``ODOO_BENCH_*`` variables through which tests/kit/odoo_server.py finds the bench."""
    cmd = odoo_command(src, venv, pg)
    logs = BENCH / "servers"
    logs.mkdir(exist_ok=True)
    return dict(
        ODOO_BENCH_PYTHON=cmd[0], ODOO_BENCH_ODOO_BIN=cmd[1], ODOO_BENCH_ADDONS_PATH=cmd[3],
        ODOO_BENCH_PG_HOST=str(pg.socket_dir), ODOO_BENCH_PG_PORT=str(pg.port), ODOO_BENCH_PG_USER=PG_ROLE,
        ODOO_BENCH_PG_BIN=str(PG_BIN), ODOO_BENCH_DB=database, ODOO_BENCH_LOG_DIR=str(logs),
    )  # fmt: skip


@contextlib.contextmanager
def clean_copy(name: str):
    """For a suite run outside this script (the booted till's kiosk): the cluster started, ``name`` copied
    from ``CLEAN_DB``, and the ``ODOO_BENCH_*`` variables for it; afterwards the copy is dropped and the
    cluster stopped again if it was not running before. BenchError says what is missing."""
    src = odoo_src()
    venv = BENCH / "venv"
    pg = Postgres()
    if not (venv / "bin" / "python").exists() or not (pg.data / "PG_VERSION").exists():
        raise BenchError(f"no Odoo bench in {BENCH}: run `make test-odoo` first")
    was_running = pg._pg_ctl("status", capture_output=True).returncode == 0
    pg.start()
    try:
        if pg.psql("SELECT 1 FROM pg_database WHERE datname = :'db'", db=CLEAN_DB).strip() != "1":
            raise BenchError(f"no database {CLEAN_DB} on the bench: run `make test-odoo` first")
        copy_database(pg, CLEAN_DB, name)
        try:
            yield bench_env(src, venv, pg, name)
        finally:
            drop_database(pg, name)
    finally:
        if not was_running:
            pg.stop()


def run_scenarios(src: Path, venv: Path, pg: Postgres, database: str, paths: tuple[str, ...]) -> int:
    """The scenarios on real ``odoo-bin --workers=2`` servers (tests/odoo), the contract suite against the
    addon and the Odoo benchmarks (``paths``), with pytest; they find the bench through ``ODOO_BENCH_*``
    (tests/kit/odoo_server.py)."""
    env = {**os.environ, **bench_env(src, venv, pg, database)}
    logs = env["ODOO_BENCH_LOG_DIR"]
    started = time.monotonic()
    print(f"odoo-bench: scenarios on odoo-bin --workers=2 ({', '.join(paths)}); server logs in {logs}")
    # -s: the scenarios print their figures (rounds, statuses, round times); the slowest tests are named.
    rc = subprocess.call([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                          "--durations=8", *paths], cwd=ROOT, env=env, timeout=RUN_TIMEOUT)  # fmt: skip
    print(f"odoo-bench: scenarios exit {rc} ({time.monotonic() - started:.0f} s)")
    return rc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep-db", action="store_true", help="keep the test database for a look afterwards")
    parser.add_argument("--addons", help="comma-separated addons of addons/ (default: all of them)")
    parts = parser.add_mutually_exclusive_group()
    parts.add_argument("--no-scenarios", action="store_true", help="only the install tests, no real servers")
    parts.add_argument("--no-benchmarks", action="store_true", help="everything but the Odoo benchmarks")
    parts.add_argument(
        "--benchmarks-only", action="store_true", help=f"only the Odoo benchmarks, on a copy of {CLEAN_DB}"
    )
    args = parser.parse_args(argv)
    if args.benchmarks_only:
        return benchmarks_only()
    paths = () if args.no_scenarios else SCENARIOS if args.no_benchmarks else (*SCENARIOS, *BENCHMARKS)
    try:
        src = odoo_src()
        addons = our_addons(args.addons.split(",") if args.addons else None)
        if not addons:
            raise BenchError("no addon with a __manifest__.py in addons/: nothing to test")
        ensure_apt()
        pg = Postgres()
        pg.start()
        database = f"bench_{time.strftime('%Y%m%d_%H%M%S')}"
        try:
            venv = ensure_venv(src)
            counts = run_tests(src, venv, pg, addons, database)
            copy_database(pg, database, CLEAN_DB)
            scenarios = run_scenarios(src, venv, pg, database, paths) if paths else 0
            stale = stale_terms(src, venv, pg, database, addons)
        finally:
            if not args.keep_db:
                drop_database(pg, database)
            pg.stop()
    except (BenchError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        print(f"odoo-bench: {exc}", file=sys.stderr)
        return 1
    problems = []
    if counts.run == 0:
        problems.append("zero tests ran")
    if counts.failed or counts.errors:
        problems.append(f"{counts.failed} failed, {counts.errors} errors")
    if counts.logged_errors:
        problems.append(f"{counts.logged_errors} ERROR/CRITICAL lines in the log")
    problems += stale
    if scenarios:
        problems.append(f"the scenarios on real servers failed (pytest exit {scenarios})")
    if counts.skipped and os.environ.get("CI") == "true":
        problems.append(f"{counts.skipped} skipped (a skip is a failure in CI)")
    if problems:
        for text in counts.excerpts:
            print(f"odoo-bench: logged: {text}", file=sys.stderr)
        print(f"odoo-bench: FAILED: {'; '.join(problems)}", file=sys.stderr)
        return 1
    return 0


def benchmarks_only() -> int:
    """The Odoo benchmarks alone, on a copy of the database a full run keeps (``CLEAN_DB``)."""
    try:
        src = odoo_src()
        ensure_apt()
        venv = ensure_venv(src)
        database = f"bench_{time.strftime('%Y%m%d_%H%M%S')}"
        with clean_copy(database):
            rc = run_scenarios(src, venv, Postgres(), database, BENCHMARKS)
    except (BenchError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        print(f"odoo-bench: {exc}", file=sys.stderr)
        return 1
    if rc:
        print(
            f"odoo-bench: FAILED: the benchmarks on real servers failed (pytest exit {rc})", file=sys.stderr
        )
    return 1 if rc else 0


if __name__ == "__main__":
    sys.exit(main())
