"""Fault injection for crash tests: `STANCEWIRE_FAULT_AT=<point>:<n>` kills the process with SIGKILL the n-th time
it reaches `<point>`; `STANCEWIRE_FAULT_FULL_DISK=<point>:<n>` raises OSError(ENOSPC) there instead, as a full disk
would; `STANCEWIRE_FAULT_TRACE=<file>` appends the name of every point reached to that file.

Points: the table a transaction writes, just before it commits (its statements already executed), and "publish"
(the snapshot copied, not yet renamed into place). Unset, a point costs two comparisons. `bench/reliability.py`
uses both.
"""

import errno
import os
import signal
from collections import Counter

FAULT_ENV, FULL_DISK_ENV, TRACE_ENV = "STANCEWIRE_FAULT_AT", "STANCEWIRE_FAULT_FULL_DISK", "STANCEWIRE_FAULT_TRACE"


def _target(spec: str | None, variable: str = FAULT_ENV) -> tuple[str, int] | None:
    if not spec:
        return None
    point, _, n = spec.rpartition(":")
    if not point or not n.isdigit() or int(n) < 1:
        raise ValueError(f"{variable} must be <point>:<n> with n >= 1, not {spec!r}")
    return point, int(n)


_TARGET = _target(os.environ.get(FAULT_ENV))
_FULL_DISK = _target(os.environ.get(FULL_DISK_ENV), FULL_DISK_ENV)
_TRACE = os.environ.get(TRACE_ENV)
_hits: Counter[str] = Counter()


def fault_point(point: str) -> None:
    if _TRACE:
        with open(_TRACE, "a", encoding="utf-8") as trace:
            trace.write(point + "\n")
    if point not in (_TARGET or ("",))[:1] + (_FULL_DISK or ("",))[:1]:
        return
    _hits[point] += 1
    if _TARGET and (point, _hits[point]) == _TARGET:
        os.kill(os.getpid(), signal.SIGKILL)
    if _FULL_DISK and (point, _hits[point]) == _FULL_DISK:
        raise OSError(errno.ENOSPC, "No space left on device")
