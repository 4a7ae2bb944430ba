"""What the reliability and hardening benches share: a harness that runs the real command line against one local
Prefect server with tiny generated models, a generated corpus, and table fingerprints to compare stores by."""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

DEMO = REPO_ROOT / "demo"
# Tables whose rows describe runs rather than data: they grow with every run by design.
RUN_TABLES = {"runs", "stage_runs", "validation_results", "schema_version"}
BASE_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "DASK_LOGGING__DISTRIBUTED": "warning",
}


# -- harness


@dataclass
class Harness:
    root: Path
    ner: Path
    nli: Path
    env: dict[str, str]
    batch_size: int = 6

    def _command(self, db: Path, sources: list[Path]) -> list[str]:
        command = [*_cli(), "run", "--db", str(db), "--claims", str(DEMO / "claims.yaml"), "--device", "cpu"]
        command += ["--ner-model", str(self.ner), "--nli-model", str(self.nli), "--batch-size", str(self.batch_size)]
        for source in sources:
            command += ["--source", str(source)]
        return command

    def run(
        self, db: Path, sources: list[Path], *, extra_env: dict[str, str] | None = None, timeout: float = 900
    ) -> tuple[int, float, str]:
        """One `stancewire run`; (exit status, seconds, stderr tail). SIGKILL shows as -9."""
        command = self._command(db, sources)
        started = time.monotonic()
        proc = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env={**self.env, **(extra_env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            _, err = proc.communicate(timeout=timeout)
        finally:
            _kill_group(proc)
        return proc.returncode, time.monotonic() - started, (err or "")[-3000:]

    def run_killed_at(self, db: Path, sources: list[Path], after_s: float) -> tuple[int, float]:
        """A run killed with SIGKILL `after_s` seconds after it started (unless it finished first)."""
        command = self._command(db, sources)
        started = time.monotonic()
        proc = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=after_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        finally:
            _kill_group(proc)
        return proc.returncode, time.monotonic() - started


def _cli() -> list[str]:
    script = Path(sys.executable).parent / "stancewire"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from flows.cli import app; app()"]


def _kill_group(proc: subprocess.Popen) -> None:
    """Whatever the run left behind in its own process group (it was started in a new session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.poll() is None:
        proc.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def harness(root: Path) -> Iterator[Harness]:
    """Tiny models, an isolated Prefect home and a local Prefect server for all runs."""
    from tests.models.tiny import make_tiny_ner, make_tiny_nli

    env = {**os.environ, **BASE_ENV, "PREFECT_HOME": str(root / "prefect-home")}
    env.pop("STANCEWIRE_FAULT_AT", None)
    ner, nli = make_tiny_ner(root / "models" / "ner"), make_tiny_nli(root / "models" / "nli")
    port = _free_port()
    prefect = Path(sys.executable).parent / "prefect"
    server = subprocess.Popen(
        [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{api}/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the Prefect server did not start") from None
                time.sleep(0.5)
        yield Harness(root, ner, nli, {**env, "PREFECT_API_URL": api})
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            _kill_group(server)


# -- corpus

_NAMES = ["Mario Rossi", "Gianfranco Neri", "Anna Bianchi", "Luca Verdi", "Sofia Galli", "Paolo Conti"]
_PLACES = ["Roma", "Zürich", "Valmora", "Torino", "Marseille", "Lindenau"]
TEMPLATES = {
    "it": [
        "{name} ha incontrato ieri a {place} i rappresentanti di {n} comuni della valle.",
        "Secondo l'ONU il progetto costerà {n} milioni di euro e durerà {m} anni.",
        "Il consiglio comunale di {place} ha votato sì alla proposta con {n} voti favorevoli.",
        "I residenti di {place} hanno raccolto {n} firme contro la nuova strada provinciale.",
        "La prefettura ha confermato che la riunione del {m} marzo si terrà nel municipio.",
        "{name} ha spiegato che la decisione finale arriverà entro {m} settimane.",
    ],
    "en": [
        "{name} met representatives of {n} towns in {place} on Tuesday afternoon.",
        "According to the ONU report the plan will cost {n} million euros over {m} years.",
        "The council in {place} voted yes on the proposal with {n} votes in favour.",
        "Residents of {place} collected {n} signatures against the new bypass road.",
        "Officials said the hearing on {m} March would take place at the town hall.",
        "{name} said a final decision was expected within {m} weeks.",
    ],
    "fr": [
        "{name} a rencontré mardi à {place} les représentants de {n} communes de la vallée.",
        "Selon l'ONU le projet coûtera {n} millions d'euros sur {m} ans.",
        "Le conseil municipal de {place} a adopté la proposition avec {n} voix pour.",
        "Les habitants de {place} ont réuni {n} signatures contre la nouvelle route.",
        "La préfecture a confirmé que la réunion du {m} mars aura lieu à la mairie.",
        "{name} a expliqué que la décision finale tomberait dans {m} semaines.",
    ],
    "de": [
        "{name} traf am Dienstag in {place} Vertreter von {n} Gemeinden des Tals.",
        "Laut ONU wird das Projekt {n} Millionen Euro kosten und {m} Jahre dauern.",
        "Der Gemeinderat von {place} stimmte dem Vorschlag mit {n} Stimmen zu.",
        "Die Bewohner von {place} sammelten {n} Unterschriften gegen die neue Straße.",
        "Die Behörde bestätigte, dass die Sitzung am {m}. März im Rathaus stattfindet.",
        "{name} erklärte, die endgültige Entscheidung falle in {m} Wochen.",
    ],
}


def article_text(rng: random.Random, language: str, serial: int) -> str:
    """A plausible, unique news text (title line + paragraphs) with names and words the tiny models react to."""
    templates = TEMPLATES[language]

    def sentence(template: str) -> str:
        name, place = rng.choice(_NAMES), rng.choice(_PLACES)
        return template.format(name=name, place=place, n=rng.randint(2, 9000), m=rng.randint(2, 28))

    title = sentence(rng.choice(templates)).rstrip(".") + f" ({serial})"
    paragraphs = [" ".join(sentence(t) for t in rng.sample(templates, 3)) for _ in range(3)]
    return title + "\n\n" + "\n\n".join(paragraphs) + "\n"


def good_articles(directory: Path, count: int, seed: int = 7) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for i in range(count):
        language = list(TEMPLATES)[i % len(TEMPLATES)]
        path = directory / f"good-{i:04d}-{language}.txt"
        path.write_text(article_text(rng, language, i), encoding="utf-8")
        paths.append(path)
    return paths


def corpus(root: Path, generated: int) -> list[Path]:
    """Sources of the crash benchmark: the demo articles plus `generated` unique articles."""
    demo = root / "corpus" / "demo"
    if not demo.exists():
        shutil.copytree(DEMO / "articles", demo)
        good_articles(root / "corpus" / "generated", generated)
    return [demo, root / "corpus" / "generated"]


# -- table fingerprints


def _is_volatile(column: str) -> bool:
    return column == "run_id" or column.endswith("_at")


def _plain(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, bytes | bytearray | memoryview):
        return hashlib.sha256(bytes(value)).hexdigest()
    if isinstance(value, list | tuple):
        return "[" + ",".join(_plain(v) for v in value) + "]"
    return repr(value)


def table_rows(db: Path) -> dict[str, Counter[str]]:
    """Per data table: the multiset of its rows without run ids and timestamps (floats to 6 significant digits)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY table_name"
            ).fetchall()
            if t not in RUN_TABLES
        ]
        rows: dict[str, Counter[str]] = {}
        for table in tables:
            columns = [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [table]
                ).fetchall()
                if not _is_volatile(c)
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            found = con.execute(f"SELECT {select} FROM {table}").fetchall()
            rows[table] = Counter("\x1f".join(_plain(v) for v in row) for row in found)
        return rows
    finally:
        con.close()


def content_hash(rows: Counter[str]) -> str:
    return hashlib.sha256("\n".join(sorted(rows.elements())).encode()).hexdigest()[:12]


@dataclass
class Diff:
    lost: int = 0
    extra: int = 0
    tables: list[str] = field(default_factory=list)  # tables that differ


def compare(base: dict[str, Counter[str]], got: dict[str, Counter[str]]) -> Diff:
    diff = Diff()
    for table in sorted(set(base) | set(got)):
        b, g = base.get(table, Counter()), got.get(table, Counter())
        lost, extra = sum((b - g).values()), sum((g - b).values())
        if lost or extra:
            diff.tables.append(f"{table}(-{lost}/+{extra})")
        diff.lost += lost
        diff.extra += extra
    return diff


def run_statuses(db: Path) -> Counter[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return Counter(dict(con.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall()))
