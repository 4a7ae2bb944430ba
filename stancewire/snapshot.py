"""The store's files: the published snapshot analysts read and the working copy a run writes.

The user-facing database file is a published snapshot the pipeline never opens for writing. A run writes to a
working database `<db>.work` next to it, under an advisory run lock, and `publish()` atomically replaces the published
file with a checkpointed copy, so readers never see a half-written run and never block one. A run whose data failed
validation has its working copy set aside (`reject`), so the next run starts again from the last published snapshot.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import duckdb

from stancewire.faults import fault_point
from stancewire.schema import StoreError, check_not_newer, scalar, schema_version


class StoreBusy(StoreError):
    """Another run holds the working database."""


_open_here: set[Path] = set()  # working databases this process has open
_open_here_lock = threading.Lock()


def work_path(db_path: str | Path) -> Path:
    return Path(f"{db_path}.work")


# What an analyst's query may not do on the published file: touch any other file (COPY TO, EXPORT DATABASE, ATTACH,
# read_text, glob, read_csv), install or load extensions, or change these settings back.
SANDBOX = ("enable_external_access", "autoinstall_known_extensions", "autoload_known_extensions")


def _connect(path: Path, read_only: bool, wait_s: float, sandboxed: bool = False) -> duckdb.DuckDBPyConnection:
    """Connect, retrying with backoff for up to wait_s while another process holds the file's lock. A sandboxed
    connection attaches the file read-only to an in-memory database, then switches off SANDBOX and locks the
    settings (attaching, rather than opening the file with those settings, works beside a plain connection to the
    same file in this process)."""
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            if sandboxed:
                con = duckdb.connect(":memory:")
                con.execute("ATTACH ? AS store (READ_ONLY)", [str(path)])
                con.execute("USE store")
            else:
                con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            left = deadline - time.monotonic()
            if "lock" not in str(exc).lower() or left <= 0:
                raise
            time.sleep(min(delay, left))
            delay = min(delay * 2, 2.0)
        else:
            con.execute("SET TimeZone = 'UTC'")
            if sandboxed:
                for setting in SANDBOX:
                    con.execute(f"SET {setting} = false")
                con.execute("SET lock_configuration = true")
            return con


def open_readonly(db_path: str | Path, wait_s: float = 10.0, *, sandboxed: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the published database for reading; `sandboxed` (for SQL an analyst types) also blinds the connection to
    every other file and to extensions (SANDBOX).

    DuckDB shares one database instance per file within a process: close an old connection before opening again
    to see a newer snapshot.
    """
    path = Path(db_path)
    if not path.is_file():
        raise StoreError(f"{path} does not exist: no run has been published there yet")
    try:
        con = _connect(path, read_only=True, wait_s=wait_s, sandboxed=sandboxed)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise StoreError(f"{path} is locked for writing by another process: {exc}") from exc
        if Path(f"{path}.wal").exists():
            raise StoreError(
                f"{path} cannot be opened: another program opened it for writing and left {path}.wal beside it. "
                "The next stancewire run removes it; open the file with `duckdb -readonly` to keep this from happening"
            ) from exc
        raise StoreError(f"{path} cannot be opened: {exc}") from exc
    version = schema_version(con)
    try:
        if version == 0:
            raise StoreError(f"{path} is not a stancewire database")
        check_not_newer(version, path)
    except StoreError:
        con.close()
        raise
    return con


@dataclass
class WorkingCopy:
    """The open working database of one run, and what becomes of it when the run ends."""

    db_path: Path
    con: duckdb.DuckDBPyConnection
    rejected_to: Path | None = None

    @property
    def work_path(self) -> Path:
        return work_path(self.db_path)

    def reject(self, run_id: str) -> Path:
        """Set the working database aside when the run ends (it holds data that failed validation), so the next
        run starts again from the last published snapshot instead of failing on the same rows."""
        self.rejected_to = self.db_path.with_name(f"{self.db_path.name}.rejected-{run_id}")
        return self.rejected_to

    def is_published(self) -> bool:
        """Whether the published database already holds this working copy's data: its data_version token (which
        every data change renews) is the same and no other program has written to it since. Anything unreadable
        counts as not published."""
        published = Path(self.db_path)
        if not published.is_file() or Path(f"{published}.wal").exists():
            return False
        ours = scalar(self.con, "SELECT token FROM data_version")
        try:
            with duckdb.connect(str(published), read_only=True) as con:
                theirs = scalar(con, "SELECT token FROM data_version")
        except duckdb.Error:
            return False
        return theirs == ours

    def publish(self) -> Path:
        """Atomically replace the published database with a snapshot of the working one.

        The copy is taken after a checkpoint while this connection still holds the working database's lock, so no
        other run can change it mid-copy; readers holding the old published file keep reading it.
        """
        self.con.execute("CHECKPOINT")
        wal = Path(f"{self.work_path}.wal")
        if wal.exists() and wal.stat().st_size:
            raise StoreError(f"{wal} is not empty after a checkpoint: refusing to publish a partial copy")
        tmp = Path(f"{self.db_path}.tmp-{os.getpid()}")
        try:
            with open(self.work_path, "rb") as src, open(tmp, "wb") as dst:
                clone_file(src, dst)
                os.fsync(dst.fileno())
            fault_point("publish")
            # A .wal beside the published file was left by another program that opened it for writing (the duckdb
            # CLI does by default); it belongs to the file being replaced and would stop every reader of the new one.
            Path(f"{self.db_path}.wal").unlink(missing_ok=True)
            os.replace(tmp, self.db_path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fsync_dir(self.db_path.parent)
        return self.db_path


_FICLONE = 0x40049409  # Linux ioctl: make dst share src's extents (btrfs, XFS with reflink, bcachefs)


def clone_file(src: BinaryIO, dst: BinaryIO) -> str:
    """Copy src into the empty dst the cheapest way the file system allows: a copy-on-write clone (constant time,
    whatever the size), else an in-kernel copy, else through user space. Returns which was used; raises StoreError
    when a copy would not fit on the disk."""
    try:
        fcntl.ioctl(dst.fileno(), _FICLONE, src.fileno())
        return "clone"
    except OSError:
        pass
    size, done = os.fstat(src.fileno()).st_size, 0
    disk = os.fstatvfs(dst.fileno())
    free = disk.f_bavail * disk.f_frsize
    if free < size:  # fail now, not after filling the disk
        raise StoreError(
            f"not enough disk space to publish: {size / 1e9:.2f} GB to copy, {free / 1e9:.2f} GB free beside "
            f"{Path(dst.name).name}; the data stays in the working copy and the next run publishes it"
        )
    try:
        while done < size:
            copied = os.copy_file_range(src.fileno(), dst.fileno(), size - done, done, done)
            if copied == 0:
                break
            done += copied
        if done == size:
            return "kernel copy"
    except OSError:
        pass
    src.seek(0)
    dst.seek(0)
    dst.truncate()
    shutil.copyfileobj(src, dst, 1 << 20)
    dst.flush()
    return "copy"


@contextmanager
def open_working_copy(
    db_path: str | Path, wait_s: float = 0.0, memory_limit: str | None = None
) -> Iterator[WorkingCopy]:
    """Hold the run lock and open the working database of `db_path` (seeded from the published one when absent),
    with DuckDB's buffer memory capped at `memory_limit` (DuckDB's default, most of the machine's memory, when None).

    Raises StoreBusy when another process still holds it after `wait_s` seconds.
    """
    db = Path(db_path)
    db.parent.mkdir(parents=True, exist_ok=True)
    work = work_path(db)
    with _open_here_lock:  # DuckDB's file lock does not stop a second connection from the same process
        if work.resolve() in _open_here:
            raise StoreBusy(f"this process already has a run open on {work}")
        _open_here.add(work.resolve())
    try:
        run_lock = _hold_run_lock(work, wait_s)
        try:
            for stale in db.parent.glob(f"{work.name}.tmp-*"):  # a seeding killed midway; only the lock holder seeds
                stale.unlink(missing_ok=True)
            if not work.exists() and db.exists():
                _refuse_foreign(db)
                _seed_work(db, work)
            try:
                con = _connect(work, read_only=False, wait_s=wait_s)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise
                # This process holds the run lock, so the holder is no stancewire run: a program reading the work copy.
                raise StoreBusy(
                    f"{work} is open in another program, not a stancewire run ({_holder(exc)}): close it, and read "
                    f"the published {db.name} instead (`stancewire query`, `duckdb -readonly`)"
                ) from exc
            if memory_limit:
                # DuckDB otherwise keeps every block it read cached: at millions of rows, gigabytes for nothing.
                con.execute(f"SET memory_limit = '{memory_limit}'")
            for stale in db.parent.glob(f"{db.name}.tmp-*"):  # from a publish killed midway; only we publish now
                stale.unlink(missing_ok=True)
            owner = _owner_file(work)
            copy = WorkingCopy(db, con)
            try:
                owner.write_text(json.dumps({"pid": os.getpid(), "since": _now().isoformat(timespec="seconds")}))
                yield copy
            finally:
                owner.unlink(missing_ok=True)
                con.close()
                if copy.rejected_to:
                    _set_aside(work, copy.rejected_to)
        finally:
            run_lock.close()
    finally:
        with _open_here_lock:
            _open_here.discard(work.resolve())


def _now() -> datetime:
    return datetime.now(UTC)


def _holder(exc: duckdb.IOException) -> str:
    """The process DuckDB names as holding a file's lock, from its message."""
    match = re.search(r"\(PID (\d+)\)", str(exc))
    return f"process {match.group(1)}" if match else "a process holds its lock"


def _refuse_foreign(db: Path) -> None:
    """A run never takes over a database that is not a stancewire store (another application's DuckDB file, or no
    DuckDB file at all): migrating it would change that application's data."""
    try:
        con = _connect(db, read_only=True, wait_s=0)
    except duckdb.Error as exc:
        raise StoreError(f"{db} is not a database stancewire can use: {str(exc).splitlines()[0]}") from exc
    try:
        foreign = schema_version(con) == 0 and scalar(con, "SELECT count(*) FROM duckdb_tables()")
    finally:
        con.close()
    if foreign:
        raise StoreError(
            f"{db} is a DuckDB database without a stancewire schema (another application's?): refusing to change it. "
            "Point --db / STANCEWIRE_DB_PATH at a new file or an existing stancewire store"
        )


def _owner_file(work: Path) -> Path:
    return Path(f"{work}.owner")


def _busy_message(work: Path, wait_s: float) -> str:
    try:
        owner = json.loads(_owner_file(work).read_text())
    except (OSError, ValueError):
        owner = {}
    who = f"process {owner['pid']}" if owner.get("pid") else "another process"
    return (
        f"another run is in progress: {who} holds {work}"
        + (f" since {owner['since']}" if owner.get("since") else "")
        + f" (waited {wait_s:g} s). Try again when it has finished, or wait longer."
    )


def _hold_run_lock(work: Path, wait_s: float):
    """An advisory lock held for a whole run, including closing and setting aside the working database
    (DuckDB's own file lock ends at close). The kernel releases it if the process dies."""
    handle = open(f"{work}.lock", "a")  # noqa: SIM115 - held until the run ends
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            left = deadline - time.monotonic()
            if left <= 0:
                handle.close()
                raise StoreBusy(_busy_message(work, wait_s)) from None
            time.sleep(min(delay, left))
            delay = min(delay * 2, 2.0)


def _set_aside(work: Path, destination: Path) -> None:
    os.replace(work, destination)
    wal = Path(f"{work}.wal")
    if wal.exists():
        os.replace(wal, f"{destination}.wal")
    fsync_dir(work.parent)


def _seed_work(db: Path, work: Path) -> None:
    """Start the working database from a copy of the published one, unless another process just created it."""
    tmp = Path(f"{work}.tmp-{os.getpid()}")
    shutil.copyfile(db, tmp)
    try:
        os.link(tmp, work)  # atomic: fails instead of replacing a working database another run created meanwhile
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in `directory` durable."""
    if os.name == "posix":
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
