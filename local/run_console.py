"""What a local run shows while it runs: one line per step, everything else in per-step logs.

kfp.local prints each task's executor input, the task's own output and its outputs to stdout,
and logs task starts and ends through the root logger. `StepConsole` is a filter on the root
logger (kfp.local swaps the root handlers while it runs but leaves filters alone; a filter never
drops a record here) that sees those start/end records, and `LogRouter` stands in for
sys.stdout so everything printed goes to `logs/<step>.log` of the step running at the time.
The terminal gets one line per step: its name when it starts, then its seconds and the figure
that matters (rows, AUC, gate decision) when it ends; on a terminal a live elapsed-time counter
runs while a step works.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from local import step_text

PIPELINE_LOG = "pipeline"
_BEGIN = re.compile(r"Executing task '([^']+)'")
_END = re.compile(r"Task '([^']+)' finished with status (\w+)")
_OUTPUTS = re.compile(r"Task '([^']+)' (outputs:|has no outputs)")
NAME_WIDTH = 24
#: A step line stays within 100 columns; the step's log and the report have the rest.
FIGURE_WIDTH = 64


@dataclass
class StepRecord:
    """One task of the run as the console saw it."""

    name: str
    log_path: Path
    started: float
    seconds: float | None = None
    status: str | None = None
    figure: str = ""
    done: bool = False


@dataclass
class _State:
    steps: dict[str, StepRecord] = field(default_factory=dict)
    current: str | None = None


class LogRouter(io.TextIOBase):
    """A sys.stdout stand-in writing to the current step's log (and the terminal if verbose)."""

    def __init__(self, log_dir: Path, echo: TextIO | None) -> None:
        super().__init__()
        self.log_dir = log_dir
        self.echo = echo
        self._files: dict[str, TextIO] = {}
        self._target = PIPELINE_LOG
        self._lock = threading.Lock()

    def switch(self, step: str) -> Path:
        """Send what follows to `logs/<step>.log`; returns that path."""
        with self._lock:
            self._target = step
            self._file(step)
        return self.log_dir / f"{step}.log"

    def _file(self, step: str) -> TextIO:
        if step not in self._files:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            self._files[step] = open(  # noqa: SIM115 - closed in close_all
                self.log_dir / f"{step}.log", "a", encoding="utf-8", buffering=1
            )
        return self._files[step]

    def write(self, text: str) -> int:
        with self._lock:
            self._file(self._target).write(step_text.strip_ansi(text))
        if self.echo is not None:
            self.echo.write(text)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            for handle in self._files.values():
                handle.flush()
        if self.echo is not None:
            self.echo.flush()

    def close_all(self) -> None:
        """Flush and close every log file."""
        with self._lock:
            for handle in self._files.values():
                handle.close()
            self._files.clear()

    def isatty(self) -> bool:
        return False


def _fit(figure: str) -> str:
    return figure if len(figure) <= FIGURE_WIDTH else figure[: FIGURE_WIDTH - 1] + "…"


class StepConsole(logging.Filter):
    """Turns kfp.local's task records into step lines on `out`; routes output via `router`."""

    def __init__(
        self,
        router: LogRouter,
        out: TextIO,
        display_names: dict[str, str],
        *,
        verbose: bool = False,
        live: bool = False,
    ) -> None:
        super().__init__()
        self.router = router
        self.out = out
        self.names = display_names
        self.verbose = verbose
        self.live = live and not verbose
        self.state = _State()
        self._lock = threading.Lock()
        self._ticker: threading.Thread | None = None
        self._stop_ticker = threading.Event()

    @property
    def steps(self) -> dict[str, StepRecord]:
        """Every step seen so far, by display name, in start order."""
        return self.state.steps

    def filter(self, record: logging.LogRecord) -> bool:
        message = step_text.strip_ansi(record.getMessage())
        begin, end, outputs = _BEGIN.match(message), _END.match(message), _OUTPUTS.match(message)
        if begin:
            self._begin(self.names.get(begin.group(1), begin.group(1)))
        elif end:
            self._end(self.names.get(end.group(1), end.group(1)), end.group(2))
        elif outputs:
            name = self.names.get(outputs.group(1), outputs.group(1))
            self._finish(name, step_text.figure_from_outputs(message))
        return True

    def _begin(self, name: str) -> None:
        self._finish_pending()
        log_path = self.router.switch(name)
        with self._lock:
            self.state.steps[name] = StepRecord(name, log_path, time.monotonic())
            self.state.current = name
            prefix = "▸ " if self.verbose else ""
            self.out.write(f"  {prefix}{name:<{NAME_WIDTH}}")
            if self.verbose:
                self.out.write("started\n")
            self.out.flush()
        if self.live:
            self._start_ticker(name)

    def _end(self, name: str, status: str) -> None:
        step = self.state.steps.get(name)
        if step is None:
            return
        step.seconds = time.monotonic() - step.started
        step.status = status
        if status != "SUCCESS":
            self._finish(name, "FAILED")

    def _finish(self, name: str, figure: str) -> None:
        step = self.state.steps.get(name)
        if step is None or step.done:
            return
        self._stop_ticking()
        step.done = True
        step.figure = figure
        if step.seconds is None:
            step.seconds = time.monotonic() - step.started
        with self._lock:
            if self.live:
                self.out.write(f"\r\x1b[K  {name:<{NAME_WIDTH}}")
            elif self.verbose:
                self.out.write(f"  ◂ {name:<{NAME_WIDTH}}")
            self.out.write(f"{step.seconds:6.1f} s  {_fit(figure)}".rstrip() + "\n")
            self.out.flush()
            self.state.current = None
        self.router.switch(PIPELINE_LOG)

    def _finish_pending(self) -> None:
        current = self.state.current
        if current is not None:
            step = self.state.steps[current]
            self._finish(current, "FAILED" if step.status not in (None, "SUCCESS") else "")

    def close(self) -> None:
        """End the line of a step kfp.local never reported back on."""
        self._finish_pending()
        self._stop_ticking()

    def _start_ticker(self, name: str) -> None:
        self._stop_ticker.clear()

        def tick() -> None:
            started = self.state.steps[name].started
            while not self._stop_ticker.wait(1.0):
                with self._lock:
                    if self.state.current != name:
                        return
                    elapsed = time.monotonic() - started
                    self.out.write(f"\r  {name:<{NAME_WIDTH}}{elapsed:4.0f} s …")
                    self.out.flush()

        self._ticker = threading.Thread(target=tick, daemon=True)
        self._ticker.start()

    def _stop_ticking(self) -> None:
        self._stop_ticker.set()
        if self._ticker is not None and self._ticker is not threading.current_thread():
            self._ticker.join()
        self._ticker = None
