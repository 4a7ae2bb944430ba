"""Per-stage bookkeeping of a run: status, rows in and out, why a stage was skipped."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from stancewire.store import Store


@dataclass
class StageRecord:
    stage: str
    status: str = "ok"  # ok | skipped | failed
    rows_in: int = 0
    rows_out: int = 0
    reason: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None


class RunLedger:
    def __init__(self, store: Store, run_id: str):
        self.store = store
        self.run_id = run_id
        self.records: dict[str, StageRecord] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[StageRecord]:
        record = self.records.setdefault(name, StageRecord(name))
        try:
            yield record
        except BaseException as exc:
            record.status, record.reason = "failed", f"{type(exc).__name__}: {exc}"
            self._save(record)
            raise
        self._save(record)

    def skip(self, name: str, reason: str) -> None:
        self._save(StageRecord(name, status="skipped", reason=reason))

    def _save(self, record: StageRecord) -> None:
        record.finished_at = datetime.now(UTC)
        self.records[record.stage] = record
        self.store.record_stage(
            self.run_id,
            record.stage,
            record.status,
            record.rows_in,
            record.rows_out,
            record.reason,
            record.started_at,
            record.finished_at,
        )

    @property
    def skipped(self) -> dict[str, str]:
        return {r.stage: r.reason or "" for r in self.records.values() if r.status == "skipped"}

    def counts(self) -> dict[str, dict]:
        return {r.stage: {"status": r.status, "in": r.rows_in, "out": r.rows_out} for r in self.records.values()}
