"""Hardening cases, one line each (held / broken, rows lost, rows duplicated), for `python bench/reliability.py
hardening` (and `all`). Runs go through the real command line against the reliability harness; the fetch-level
cases (a looping sitemap index, dripped response headers) call the fetch code in this process against a loopback
server, since a subprocess cannot shorten the download cap.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from bench.harness import DEMO, Harness, _cli, good_articles, table_rows


@dataclass
class Case:
    name: str
    held: bool
    lost: int = 0
    duplicated: int = 0
    note: str = ""

    def line(self) -> str:
        verdict = "held" if self.held else "BROKEN"
        return f"{self.name:<40} {verdict:<7} rows lost {self.lost:>3}  duplicated {self.duplicated:>3}  {self.note}"


def run_all(h: Harness) -> Iterator[Case]:
    cases = [stale_wal, pathological_json, links_out_of_folder, named_credentials, yaml_alias_bomb]
    cases += [query_sandbox, foreign_database, work_copy_reader, killed_command, mistyped_source, sitemap_loop]
    cases += [dripped_headers, bit_identical_rerun, seeding_leftover, full_disk_at_publish, switches_outside_the_form]
    for case in cases:
        yield case(h)  # one at a time, so each line prints as soon as its case ends


def _cli_run(h: Harness, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> tuple[int, str, float]:
    started = time.monotonic()
    proc = subprocess.run(
        [*_cli(), *args], env={**h.env, **(env or {})}, capture_output=True, text=True, timeout=timeout, check=False
    )
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started


def _models(h: Harness) -> list[str]:
    return ["--ner-model", str(h.ner), "--nli-model", str(h.nli), "--device", "cpu"]


def _documents(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [uri for (uri,) in con.execute("SELECT uri FROM documents").fetchall()]


def _lost_and_duplicated(stored: list[str], expected: set[str]) -> tuple[int, int]:
    return len(expected - set(stored)), len(stored) - len(set(stored))


def stale_wal(h: Harness) -> Case:
    """A program that opened the published file for writing and was killed leaves a .wal; the next run repairs it."""
    db = h.root / "hardening" / "wal" / "out.duckdb"
    db.parent.mkdir(parents=True)
    sources = good_articles(db.parent / "in", 3)
    code, _, _ = h.run(db, sources)
    before = table_rows(db)
    foreign = (
        f"import duckdb, os, signal\ncon = duckdb.connect({str(db)!r})\n"
        "con.execute('CREATE TABLE scratch AS SELECT 1')\nos.kill(os.getpid(), signal.SIGKILL)"
    )
    subprocess.run([sys.executable, "-c", foreign], check=False)
    left = Path(f"{db}.wal").exists()
    again, _, _ = h.run(db, sources)
    after = table_rows(db)
    lost = sum(max(0, sum((before[t] - after.get(t, before[t])).values())) for t in before)
    readable, _, _ = _cli_run(h, "query", "--db", str(db), "SELECT count(*) FROM articles")
    held = code == again == readable == 0 and left and not Path(f"{db}.wal").exists()
    return Case("stale .wal beside the published file", held, lost, note="next run removed it; readers work")


def pathological_json(h: Harness) -> Case:
    """A JSON file nested 100k deep, a 5,000-digit number, bad JSONL lines: each quarantined alone."""
    folder = h.root / "hardening" / "json" / "in"
    folder.mkdir(parents=True)
    good = {p.resolve() for p in good_articles(folder, 3)}
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (folder / "long-number.json").write_text('{"text": "x", "n": ' + "9" * 5_000 + "}")
    lines = [json.dumps({"text": "Una riga buona, con una notizia vera."}), "[" * 100_000, '{"n": ' + "1" * 5_000 + "}"]
    (folder / "mixed.jsonl").write_text("\n".join(lines) + "\n")
    db = folder.parent / "out.duckdb"
    code, _, _ = h.run(db, [folder])
    expected = {str(p) for p in good} | {f"{(folder / 'mixed.jsonl').resolve()}#0"}
    lost, duplicated = _lost_and_duplicated(_documents(db), expected)
    return Case(
        "pathological JSON in a folder", code == 0 and lost == 0, lost, duplicated, "the rest of the folder read"
    )


def links_out_of_folder(h: Harness) -> Case:
    folder = h.root / "hardening" / "links" / "in"
    folder.mkdir(parents=True)
    good = {str(p.resolve()) for p in good_articles(folder, 2)}
    secret = folder.parent / "outside.txt"
    secret.write_text("A file outside the source folder, not for the pipeline.")
    (folder / "outside.txt").symlink_to(secret)
    (folder / "environ.txt").symlink_to("/proc/self/environ")
    db = folder.parent / "out.duckdb"
    code, _, _ = h.run(db, [folder])
    stored = _documents(db)
    lost, duplicated = _lost_and_duplicated(stored, good)
    leaked = set(stored) - good
    return Case("links out of a source folder", code == 0 and not leaked, lost, duplicated, f"{len(leaked)} leaked")


@contextmanager
def _loopback(handler: Callable[[http.server.BaseHTTPRequestHandler], None]) -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            handler(self)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _article_page(request: http.server.BaseHTTPRequestHandler) -> None:
    if not request.path.startswith("/article"):
        request.send_response(404)
        request.send_header("Content-Length", "0")
        request.end_headers()
        return
    body = (
        b"<html><body><article><p>Una notizia riservata, letta con le credenziali giuste.</p></article></body></html>"
    )
    request.send_response(200)
    request.send_header("Content-Type", "text/html; charset=utf-8")
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)


def named_credentials(h: Harness) -> Case:
    """Credentials named as ${VARIABLE} reach the server and nothing stored; written-out ones are refused."""
    db = h.root / "hardening" / "credentials" / "out.duckdb"
    db.parent.mkdir(parents=True)
    secrets = {"DESK_USER": "bob", "DESK_PASS": "hunter2", "DESK_TOKEN": "T0K3N"}
    env = {**secrets, "STANCEWIRE_ALLOW_PRIVATE_HOSTS": "true"}
    with _loopback(_article_page) as base:
        named = base.replace("://", "://${DESK_USER}:${DESK_PASS}@") + "/article?token=${DESK_TOKEN}&id=1"
        code, _, _ = _cli_run(h, "run", "--db", str(db), "--no-claims", "--source", named, *_models(h), env=env)
        literal = f"{base.replace('://', '://bob:hunter2@')}/article?token=T0K3N"
        refused, said, _ = _cli_run(h, "run", "--db", str(db), "--no-claims", "--source", literal, env=env)
    dump = json.dumps({t: sorted(rows) for t, rows in table_rows(db).items()}, ensure_ascii=False)
    with duckdb.connect(str(db), read_only=True) as con:
        dump += json.dumps(con.execute("SELECT params, summary_md FROM runs").fetchall(), default=str)
    leaks = [name for name, value in secrets.items() if value in dump or value in said]
    lost = 0 if "article?id=1" in dump else 1
    held = code == 0 and refused == 1 and not leaks and lost == 0
    return Case("credentials in source URLs", held, lost, note=f"leaked: {', '.join(leaks) or 'none'}")


def yaml_alias_bomb(h: Harness) -> Case:
    bomb = h.root / "hardening" / "bomb.yaml"
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)]
    bomb.write_text("\n".join(lines) + "\nclaims: *i\n")
    db = bomb.parent / "bomb.duckdb"
    code, said, seconds = _cli_run(h, "run", "--db", str(db), "--claims", str(bomb), "--source", str(DEMO / "articles"))
    held = code == 1 and "aliases (*name) are not allowed" in said and "lol" not in said and seconds < 60
    return Case("YAML alias bomb as claims file", held, note=f"refused in {seconds:.1f} s (startup included)")


REFUSED_SQL = [
    "COPY (SELECT 1) TO '{out}/copy.csv'",
    "EXPORT DATABASE '{out}/export'",
    "ATTACH '{db}.work' AS w (READ_WRITE)",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM glob('/etc/*')",
    "INSTALL httpfs",
    "SET enable_external_access = true",
]


def query_sandbox(h: Harness) -> Case:
    db = h.root / "hardening" / "wal" / "out.duckdb"  # published by stale_wal
    out = h.root / "hardening" / "query-out"
    out.mkdir()
    answered = [sql for sql in REFUSED_SQL if _cli_run(h, "query", "--db", str(db), sql.format(db=db, out=out))[0] == 0]
    held = not answered and not any(out.iterdir())
    return Case("stancewire query read-only, file-blind", held, note=f"{len(REFUSED_SQL) - len(answered)} refused")


def foreign_database(h: Harness) -> Case:
    other = h.root / "hardening" / "other-app.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("CREATE TABLE invoices AS SELECT 42 AS amount")
    before = other.read_bytes()
    code, said, _ = _cli_run(h, "run", "--db", str(other), "--source", str(DEMO / "articles"))
    held = code == 1 and "without a stancewire schema" in said and other.read_bytes() == before
    return Case("--db pointing at another app's DuckDB", held, note="refused, file unchanged")


def work_copy_reader(h: Harness) -> Case:
    db = h.root / "hardening" / "wal" / "out.duckdb"
    code = (
        f"import duckdb, sys\nc = duckdb.connect({str(db) + '.work'!r}, read_only=True)\nprint('ready', flush=True)\n"
    )
    code += "sys.stdin.readline()"
    reader = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        reader.stdout.readline()
        status, said, _ = _cli_run(
            h,
            "run",
            "--db",
            str(db),
            "--source",
            str(DEMO / "articles"),
            *_models(h),
            env={"STANCEWIRE_LOCK_WAIT_S": "1"},
        )
    finally:
        reader.communicate("done\n", timeout=30)
    held = status == 1 and "not a stancewire run" in said and "another run is in progress" not in said
    return Case("a reader holding the work copy", held, note="named as a program, not a run")


def temporary_server_left_behind(command: list[str], env: dict[str, str]) -> str | None:
    """Start `command` (a `stancewire run` with no Prefect server configured), SIGKILL it a second after its
    temporary server appears, and say what went wrong: None when the server stopped with the command."""
    from flows.cli.watchdog import children

    cli = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def server() -> int | None:
        return next((p for p, _ in children(cli.pid) if b"uvicorn" in Path(f"/proc/{p}/cmdline").read_bytes()), None)

    deadline = time.monotonic() + 120
    while (pid := server()) is None and cli.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    if pid is None:
        cli.kill()
        cli.wait()
        return "the run started no temporary server"
    time.sleep(1)  # mid-run, as a person or a supervisor would kill it
    cli.kill()
    cli.wait()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and b") Z" not in Path(f"/proc/{pid}/stat").read_bytes():
        if time.monotonic() > deadline:
            return "the temporary server outlived the killed command by 10 s"
        time.sleep(0.2)
    return None


def killed_command(h: Harness) -> Case:
    """A command killed with SIGKILL mid-run: its temporary Prefect server must not stay behind."""
    env = {k: v for k, v in h.env.items() if k != "PREFECT_API_URL"}  # no server configured: a temporary one
    command = [*_cli(), "run", "--db", str(h.root / "hardening" / "killed.duckdb"), *_models(h)]
    failure = temporary_server_left_behind(command, env)
    return Case("killed command's temporary server", failure is None, note=failure or "stopped with the command")


def bit_identical_rerun(h: Harness) -> Case:
    """A run killed while NER lands its third batch, then run again, equals a run never killed, score for score."""
    root = h.root / "hardening" / "identical"
    sources = good_articles(root / "in", 30)
    clean, killed = root / "clean.duckdb", root / "killed.duckdb"
    h.run(clean, sources)
    status, _, _ = h.run(killed, sources, extra_env={"STANCEWIRE_FAULT_AT": "mentions:3"})
    h.run(killed, sources)
    exact = [  # (query, how many leading columns are the key)
        ("SELECT mention_id, score FROM mentions", 1),
        ("SELECT article_id, claim_id, label, score, p_entailment, p_neutral, p_contradiction FROM stance", 2),
    ]
    lost = duplicated = differing = 0
    for sql, key in exact:
        with duckdb.connect(str(clean), read_only=True) as con:
            want = con.execute(sql).fetchall()
        with duckdb.connect(str(killed), read_only=True) as con:
            got = con.execute(sql).fetchall()
        lost += len({r[:key] for r in want} - {r[:key] for r in got})
        duplicated += len(got) - len({r[:key] for r in got})
        differing += len(set(got) - set(want))
    held = status == -9 and lost == duplicated == differing == 0
    return Case("kill during NER, then rerun", held, lost, duplicated, f"{differing} rows differ from a clean run")


def seeding_leftover(h: Harness) -> Case:
    db = h.root / "hardening" / "wal" / "out.duckdb"  # published by stale_wal
    stale = Path(f"{db}.work.tmp-99999")
    stale.write_bytes(db.read_bytes())  # what a kill while seeding the work copy leaves
    code, _, _ = h.run(db, [DEMO / "articles"])
    return Case("a seeding copy left by a kill", code == 0 and not stale.exists(), note="removed by the next run")


def full_disk_at_publish(h: Harness) -> Case:
    """The disk fills while the snapshot is copied: the published file stays as it was, the run is recorded failed."""
    root = h.root / "hardening" / "full-disk"
    db, sources = root / "out.duckdb", good_articles(root / "in", 4)
    h.run(db, sources[:2])
    before = table_rows(db)
    code, _, said = h.run(db, sources, extra_env={"STANCEWIRE_FAULT_FULL_DISK": "publish:1"})
    unchanged = table_rows(db) == before
    h.run(db, sources)  # the next run publishes, the failed run's record included
    with duckdb.connect(str(db), read_only=True) as con:
        statuses = [s for (s,) in con.execute("SELECT status FROM runs ORDER BY started_at").fetchall()]
    held = (
        code == 1
        and "No space left on device" in said
        and unchanged
        and statuses == ["succeeded", "failed", "succeeded"]
    )
    return Case("full disk while publishing", held, note=f"published file unchanged; runs {', '.join(statuses)}")


def switches_outside_the_form(h: Harness) -> Case:
    """allow_private_hosts / allow_file_sources: not in the run form, and a run's parameters cannot turn them on."""
    from prefect.utilities.callables import parameter_schema

    from flows.pipeline import stancewire_pipeline
    from stancewire.config import FetchOptions, RunParams, build_params

    form = parameter_schema(stancewire_pipeline.fn).model_dump()["definitions"]["FetchOptions"]["properties"]
    in_form = {"allow_private_hosts", "allow_file_sources"} & set(form)
    asked = build_params(RunParams(fetch=FetchOptions(allow_private_hosts=True)))
    held = not in_form and asked.fetch.allow_private_hosts is False
    return Case("dangerous switches in the run form", held, note="deployment settings only")


def mistyped_source(h: Harness) -> Case:
    missing = h.root / "hardening" / "artciles"
    db = h.root / "hardening" / "typo.duckdb"
    code, said, _ = _cli_run(h, "run", "--db", str(db), "--no-claims", "--source", str(missing))
    held = code == 1 and "none of the given sources" in said and str(missing) in said and "Traceback" not in said
    return Case("every given source missing", held, note="exit 1, one line naming the source")


def sitemap_loop(h: Harness) -> Case:
    """A sitemap index that lists itself 50 times and fans out to 30 more indexes of itself."""
    import polars as pl

    from stancewire.frames import FETCH_STATE
    from tasks.crawl import crawl_sources
    from tasks.inputs.sources import Source
    from tasks.web.fetcher import PoliteFetcher

    hits: list[str] = []

    def index(request: http.server.BaseHTTPRequestHandler) -> None:
        hits.append(request.path)
        children = "<sitemap><loc>/sitemap.xml</loc></sitemap>" * 50
        children += "".join(f"<sitemap><loc>/part-{n}.xml</loc></sitemap>" for n in range(30))
        body = f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{children}</sitemapindex>'.encode()
        request.send_response(200)
        request.send_header("Content-Type", "application/xml")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    with _loopback(index) as base:
        source = Source(id="loop", kind="sitemap", url=f"{base}/sitemap.xml")
        fetcher = PoliteFetcher(host_delay_s=0, allow_private_hosts=True, respect_robots=False)
        with fetcher:
            result = crawl_sources([source], pl.DataFrame(schema=FETCH_STATE), fetcher)
    cap = source.options.max_sitemaps + 1
    held = len(hits) <= cap and result.quarantine.height <= 3
    return Case(
        "self-listing sitemap index",
        held,
        note=f"{len(hits)} requests (cap {cap}), {result.quarantine.height} quarantine rows",
    )


def dripped_headers(h: Harness) -> Case:
    """A server that sends one response header line every 0.2 s, for 20 s."""
    from tasks.fetch import fetch_sources
    from tasks.web import download
    from tasks.web.fetcher import PoliteFetcher

    def drip(request: http.server.BaseHTTPRequestHandler) -> None:
        request.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for n in range(100):
            try:
                request.wfile.write(f"X-Slow-{n}: y\r\n".encode())
                request.wfile.flush()
            except OSError:
                return
            time.sleep(0.2)

    cap, download.MAX_DOWNLOAD_S = download.MAX_DOWNLOAD_S, 2.0
    try:
        with _loopback(drip) as base:
            started = time.monotonic()
            result = fetch_sources(
                [f"{base}/slow"], PoliteFetcher(host_delay_s=0, allow_private_hosts=True, respect_robots=False)
            )
            seconds = time.monotonic() - started
    finally:
        download.MAX_DOWNLOAD_S = cap
    held = result.quarantine["reason"].to_list() == ["timeout"] and seconds < 4
    return Case("response headers dripped slowly", held, note=f"cut off after {seconds:.1f} s (cap 2 s)")
