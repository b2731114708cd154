"""Helper processes of a local run (local/background.py): ready, failed to start, stopped."""

from __future__ import annotations

import os

import pytest

from local.background import BackgroundProcess


class HelperError(Exception):
    pass


class Helper(BackgroundProcess):
    what = "the test helper"
    error = HelperError


def test_ready_when_the_line_appears_and_stopped_for_good(tmp_path):
    helper = Helper(tmp_path / "logs" / "helper.log", "Serving HTTP", poll_seconds=0.05)
    # unbuffered: the stdlib server's banner reaches the log file at once
    helper.launch(
        "http.server", ["--bind", "127.0.0.1", "0"], {**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    try:
        helper.wait_ready(timeout=30)
        assert helper.process is not None and helper.process.poll() is None
    finally:
        helper.stop()
    assert helper.process.poll() is not None
    helper.stop()  # a second stop is harmless


def test_a_process_that_exits_early_names_its_log(tmp_path):
    helper = Helper(tmp_path / "helper.log", "never printed", poll_seconds=0.05)
    helper.launch("this", [], dict(os.environ))  # prints the Zen of Python and exits
    with pytest.raises(
        HelperError, match=r"the test helper exited before it was ready; see .*helper\.log"
    ):
        helper.wait_ready(timeout=30)
    assert "Beautiful is better than ugly" in helper.log_path.read_text()


def test_a_process_that_never_gets_ready_times_out(tmp_path):
    helper = Helper(tmp_path / "helper.log", "never printed", poll_seconds=0.05)
    helper.launch("http.server", ["--bind", "127.0.0.1", "0"], dict(os.environ))
    try:
        with pytest.raises(HelperError, match=r"was not ready after 1 s; see .*helper\.log"):
            helper.wait_ready(timeout=1)
    finally:
        helper.stop()
