"""What every benchmark prints besides its figures: the machine's load and progress lines."""

from __future__ import annotations

import sys
import time

#: When the benchmark started (this module is imported at the start of a run).
T0 = time.monotonic()


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages (the machine is shared: figures are read against them)."""
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def progress(msg: str, *, stderr: bool = True) -> None:
    """A progress line: elapsed time since the start of the run, the message, the load average."""
    print(f"[{time.monotonic() - T0:6.1f} s] {msg}  (load {loadavg()})",
          file=sys.stderr if stderr else sys.stdout, flush=True)
