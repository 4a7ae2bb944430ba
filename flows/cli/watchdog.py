"""A command's temporary Prefect server must not outlive the command.

Without a Prefect server configured, a flow run starts a temporary one as a child process; a command killed with
SIGKILL cannot stop it, and it stays behind holding memory and a port. `guard_children()` starts a small watchdog
process that notes the command's child processes while the command runs and, once the command is gone, stops the
ones still running. Linux only (it reads /proc); elsewhere it does nothing.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

POLL_S = 0.1


_watching: set[int] = set()  # the processes a watchdog already guards (one each)


def guard_children() -> None:
    """Start the watchdog for this process (once); it ends by itself when this process ends."""
    if os.getpid() in _watching or not Path("/proc/self/stat").exists():
        return
    _watching.add(os.getpid())
    subprocess.Popen(
        [sys.executable, __file__, str(os.getpid())],  # as a script: standard library only, running in ~50 ms
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # not in the command's process group: a Ctrl-C there does not stop it
    )


def children(pid: int) -> set[tuple[int, str]]:
    """(pid, start time) of the processes whose parent is `pid`: the start time tells a process from a later one
    that got its pid again."""
    tasks = list(Path(f"/proc/{pid}/task").glob("*/children"))
    if tasks:  # the kernel's own list: cheap enough to read ten times a second
        pids = {int(p) for task in tasks for p in _read(task).split()}
    else:
        pids = {int(s.parent.name) for s in Path("/proc").glob("[0-9]*/stat") if (_stat(s) or ["", "0"])[1] == str(pid)}
    return {(child, fields[19]) for child in pids if (fields := _stat(Path(f"/proc/{child}/stat")))}


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _stat(path: Path) -> list[str] | None:
    try:
        return path.read_text().rsplit(")", 1)[1].split()  # the fields after the command name
    except (OSError, IndexError):
        return None


def _alive(pid: int) -> bool:
    """Running: not gone, and not a zombie its parent has yet to reap."""
    fields = _stat(Path(f"/proc/{pid}/stat"))
    return bool(fields) and fields[0] != "Z"


def watch(parent: int) -> None:
    seen: set[tuple[int, str]] = set()
    while _alive(parent):
        seen |= {child for child in children(parent) if child[0] != os.getpid()}
        time.sleep(POLL_S)
    for pid, started in seen:
        fields = _stat(Path(f"/proc/{pid}/stat"))
        if fields and fields[19] == started:
            os.kill(pid, signal.SIGTERM)


if __name__ == "__main__":
    watch(int(sys.argv[1]))
