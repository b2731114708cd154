"""How a local Spark step runs its job: in a child of the run's warm Python, or a new process.

The client half of local/warm_python.py (which documents the protocol), kept here because
step bodies import it and the components image has components/ but not local/.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Iterator

#: The last line the warm Python sends on a job's connection, before the exit code.
EXIT_MARKER = "\0warm-python-exit"


def run_script(
    address: str, argv: list[str], cwd: str | None = None, env: dict[str, str] | None = None
) -> Iterator[str | int]:
    """Run `python <argv...>` in a child of the warm Python at `address`.

    Yields the job's output lines as they come; the last item is the exit code as an int
    (a separate `int`, so no output line is mistaken for it). Raises OSError when nothing
    listens at `address`.
    """
    request = {
        "argv": argv,
        "cwd": cwd or os.getcwd(),
        "env": dict(os.environ if env is None else env),
    }
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(address)
        conn.sendall(json.dumps(request).encode() + b"\n")
        with conn.makefile("r", encoding="utf-8", errors="replace", newline="\n") as lines:
            for line in lines:
                if line.startswith(EXIT_MARKER):
                    yield int(line[len(EXIT_MARKER) :].strip())
                    return
                yield line
    raise OSError("the warm Python closed the connection without an exit code")


def job_output(command: list[str], warm_address: str = "") -> Iterator[str | int]:
    """Run `command` (`python script args...`): its output lines, then its exit code (an int).

    In a child of the warm Python at `warm_address` when one is given, else a new process.
    """
    if warm_address:
        yield from run_script(warm_address, command[1:])
        return
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as process:
        assert process.stdout is not None
        yield from process.stdout
    yield process.returncode
