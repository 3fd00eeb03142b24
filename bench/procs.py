"""Peak resident memory of a whole process group, sampled from /proc."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def group_pids(pgid: int, proc: Path = Path("/proc")) -> list[int]:
    pids = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if parse_pgrp(stat) == pgid:
            pids.append(int(entry.name))
    return pids


def parse_pgrp(stat: str) -> int:
    """Field 5 of /proc/PID/stat; the command name (field 2) may hold spaces and parens."""
    return int(stat[stat.rindex(")") + 2 :].split()[2])


def rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def group_rss(pgid: int) -> int:
    """Sum of RSS over every process of the group (shared pages counted once per process)."""
    return sum(rss_bytes(pid) for pid in group_pids(pgid))


class RssSampler:
    """Background sampler of a process group's RSS: overall peak and a resettable window peak."""

    def __init__(self, pgid: int, interval: float = 0.1):
        self.pgid, self.interval = pgid, interval
        self.peak = 0
        self.window_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def reset_window(self) -> None:
        self.window_peak = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            value = group_rss(self.pgid)
            self.peak = max(self.peak, value)
            self.window_peak = max(self.window_peak, value)
            time.sleep(self.interval)
