"""Reading kfp.local's and the steps' text: a step's key figure, a failure's meaningful lines.

Pure functions over strings, so they are tested without running anything.
"""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# kfp.local's "Task 'x' outputs:" block: one "    name: value" line per output at 4 spaces
# (an artifact continues on more deeply indented lines).
_OUTPUT_LINE = re.compile(r"^ {4}(\w+): (.*)$")
_ARTIFACT = re.compile(r"^\w+\( ")
_ERROR_LINE = re.compile(
    r"^(error: |Caused by: |[\w.]*(Error|Exception)\b(\s*\[[\w.]+\])?(: |$))", re.IGNORECASE
)
_NOISE = re.compile(r"^(at |\.\.\. \d+ more|JVM stacktrace:|File \"|\^+$|~+$)")
MAX_LINE = 240
MAX_VALUE = 40


def strip_ansi(text: str) -> str:
    """`text` without terminal colour codes (kfp.local colours task names and statuses)."""
    return _ANSI.sub("", text)


def _show(value: str) -> str:
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1]
    try:
        number = float(text)
    except ValueError:
        return text
    if text.lstrip("-").isdigit():
        return text
    return f"{number:.4f}"


def figure_from_outputs(message: str) -> str:
    """The step's scalar outputs as one short phrase (`value=0.6120 passed=True`).

    Artifacts, path-like values (folders, URIs), mappings, lists and long identifiers are left
    out: the run's summary and the step's log have them. A single output named `Output` (a
    step's one return value, such as a Spark step's own summary) is shown as it is.
    """
    values: dict[str, str] = {}
    for line in strip_ansi(message).splitlines()[1:]:
        match = _OUTPUT_LINE.match(line)
        if not match or _ARTIFACT.match(match.group(2)):
            continue
        values[match.group(1)] = _show(match.group(2))
    if set(values) == {"Output"}:
        return values["Output"]
    return " ".join(f"{name}={value}" for name, value in values.items() if _glanceable(value))


def _glanceable(value: str) -> bool:
    """Short scalars only: no paths or URIs, no mappings or lists, no long identifiers."""
    return bool(value) and "/" not in value and value[0] not in "{[" and len(value) <= MAX_VALUE


def error_excerpt(log_text: str, limit: int = 6) -> list[str]:
    """The last `limit` lines of a failed step's log that say what went wrong.

    Error lines (`error: ...`, `SomeError: ...`, `Caused by: ...`) win; Java and Python stack
    frames never count. When no line looks like an error, the last plain lines stand in.
    """
    lines = [strip_ansi(raw).strip() for raw in log_text.splitlines()]
    plain = [line for line in lines if line and not _NOISE.match(line)]
    errors = [line for line in plain if _ERROR_LINE.match(line)]
    chosen = errors or plain
    unique: list[str] = []
    for line in reversed(chosen):
        short = line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"
        if short not in unique:
            unique.append(short)
        if len(unique) == limit:
            break
    return list(reversed(unique))
