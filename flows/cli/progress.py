"""A progress bar per model stage on the terminal, fed by the stages' progress (flows/stages.py)."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def progress_bars(enabled: bool | None) -> Iterator[None]:
    """Bars on standard error while the run lasts; `enabled` None: only when standard error is a terminal."""
    if not (sys.stderr.isatty() if enabled is None else enabled):
        yield
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from flows.stages import PROGRESS_LISTENERS

    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr),
    )
    tasks: dict[str, int] = {}

    def show(stage: str, unit: str, done: int, total: int) -> None:
        if total:
            if stage not in tasks:
                tasks[stage] = bars.add_task(f"{stage} ({unit})", total=total)
            bars.update(tasks[stage], completed=done)

    PROGRESS_LISTENERS.append(show)
    try:
        with bars:
            yield
    finally:
        PROGRESS_LISTENERS.remove(show)
