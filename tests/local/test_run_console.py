"""The step view of a local run, fed with the records kfp.local logs (no pipeline run needed)."""

from __future__ import annotations

import contextlib
import io
import logging
import time

from local.run_console import LogRouter, StepConsole

CYAN, GREEN, RED, RESET = "\x1b[96m", "\x1b[92m", "\x1b[91m", "\x1b[0m"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("root", logging.INFO, __file__, 1, message, None, None)


def feed(console: StepConsole, router: LogRouter, task: str, output: str, status: str) -> None:
    """What kfp.local does for one task, in its order."""
    console.filter(record(f"Executing task {CYAN}'{task}'{RESET}"))
    with contextlib.redirect_stdout(router):
        print(output)
    colour = GREEN if status == "SUCCESS" else RED
    console.filter(
        record(f"Task {CYAN}'{task}'{RESET} finished with status {colour}{status}{RESET}")
    )
    if status == "SUCCESS":
        console.filter(record(f"Task '{task}' outputs:\n    Output: '7,043 rows'"))


def test_one_line_per_step_and_output_in_the_step_log(tmp_path):
    out = io.StringIO()
    router = LogRouter(tmp_path / "logs", echo=None)
    console = StepConsole(router, out, {"local-spark-job": "preprocess"})
    feed(console, router, "local-spark-job", "WARN NativeCodeLoader: noise", "SUCCESS")
    feed(console, router, "evaluate", "gate: passes", "FAILURE")
    console.close()
    router.close_all()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].split() == ["preprocess", lines[0].split()[1], "s", "7,043", "rows"]
    assert lines[1].split()[0] == "evaluate" and lines[1].endswith("FAILED")
    assert "noise" in (tmp_path / "logs" / "preprocess.log").read_text()
    assert "gate: passes" in (tmp_path / "logs" / "evaluate.log").read_text()
    assert "noise" not in out.getvalue()
    assert console.steps["preprocess"].status == "SUCCESS"
    assert console.steps["evaluate"].status == "FAILURE"


def test_verbose_streams_everything_with_start_and_end_lines(tmp_path):
    out = io.StringIO()
    router = LogRouter(tmp_path / "logs", echo=out)
    console = StepConsole(router, out, {}, verbose=True)
    feed(console, router, "train", "every line of the job", "SUCCESS")
    console.close()
    text = out.getvalue()
    assert "▸ train" in text and "every line of the job" in text and "◂ train" in text


def test_a_terminal_gets_a_live_elapsed_counter_that_the_end_line_replaces(tmp_path):
    out = Terminal()
    router = LogRouter(tmp_path / "logs", echo=None)
    console = StepConsole(router, out, {}, live=True)
    console.filter(record("Executing task 'tune'"))
    time.sleep(2.3)
    console.filter(record("Task 'tune' finished with status SUCCESS"))
    console.filter(record("Task 'tune' has no outputs"))
    text = out.getvalue()
    assert "   2 s …" in text  # the counter ticked while the step ran
    assert text.count("\n") == 1 and "\r\x1b[K  tune" in text


def test_long_figures_are_cut_to_keep_a_step_on_one_line(tmp_path):
    out = io.StringIO()
    router = LogRouter(tmp_path / "logs", echo=None)
    console = StepConsole(router, out, {})
    console.filter(record("Executing task 'summary'"))
    console.filter(record("Task 'summary' finished with status SUCCESS"))
    outputs = "\n".join(f"    output_{i}: {i}.5" for i in range(30))
    console.filter(record(f"Task 'summary' outputs:\n{outputs}"))
    (line,) = out.getvalue().splitlines()
    assert len(line) <= 100 and line.endswith("…")
