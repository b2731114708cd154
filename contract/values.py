"""Which JSON/YAML values survive the trip into a PipelineJob unchanged (pure logic).

Pipeline parameter values travel as `google.protobuf.Value`: every number becomes a double and
a struct nests as Struct -> Value -> Struct, which protobuf parsers refuse beyond ~100 message
levels. So a value that looks fine in JSON can be silently rounded (integers above 2**53), turn
into a server error (a lone surrogate cannot be encoded as UTF-8, `inf` is not JSON) or make the
API refuse the request (deep nesting). `value_problems` finds all of these, naming where.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: Integers a double holds exactly; beyond this a parameter would be silently rounded.
SAFE_INTEGER = 2**53
#: Nesting levels of lists/mappings inside one value (protobuf's own limit is far above).
MAX_DEPTH = 16
#: Characters in one string value; bodies are bounded anyway, this keeps messages readable.
MAX_STRING = 8192

_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def value_problems(value: Any, where: str, depth: int = 0) -> list[str]:
    """Every reason `value` (parsed JSON/YAML) cannot be passed on unchanged; [] when it can.

    `where` names the value in messages (e.g. "parameter 'seed'"); nested items are named with
    their key or index path after it.
    """
    if depth > MAX_DEPTH:
        return [f"{where}: nested more than {MAX_DEPTH} levels deep"]
    if isinstance(value, list):
        return _list_problems(value, where, depth)
    if isinstance(value, dict):
        return _mapping_problems(value, where, depth)
    return _scalar_problems(value, where)


def _scalar_problems(value: Any, where: str) -> list[str]:
    """Why a scalar (not a list or mapping) cannot be passed on unchanged."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int):
        return [] if -SAFE_INTEGER <= value <= SAFE_INTEGER else [_unsafe_integer(where, value)]
    if isinstance(value, float):
        return [] if math.isfinite(value) else [f"{where}: {value} is not a finite number"]
    if isinstance(value, str):
        return string_problems(value, where)
    return [f"{where}: {type(value).__name__} values are not supported"]


def _list_problems(value: list, where: str, depth: int) -> list[str]:
    out: list[str] = []
    for index, item in enumerate(value):
        out += value_problems(item, f"{where}[{index}]", depth + 1)
    return out


def _mapping_problems(value: dict, where: str, depth: int) -> list[str]:
    out: list[str] = []
    for key, item in value.items():
        if not isinstance(key, str):
            out.append(f"{where}: key {key!r:.40} is not a string")
            continue
        out += string_problems(key, f"{where} key")
        out += value_problems(item, f"{where}.{key[:40]}", depth + 1)
    return out


def string_problems(text: str, where: str) -> list[str]:
    """Why `text` cannot be sent as a UTF-8 string value; [] when it can."""
    if _SURROGATE.search(text):
        return [f"{where}: contains a lone UTF-16 surrogate, which is not valid Unicode text"]
    if len(text) > MAX_STRING:
        return [f"{where}: longer than {MAX_STRING} characters"]
    return []


def json_depth(data: bytes) -> int:
    """How deeply arrays/objects nest in JSON text, found without parsing it.

    Lets a caller refuse a 1000-level document before `json.loads` recurses into it. Strings are
    skipped first so brackets inside them do not count; for text that is not valid JSON the
    answer is only an estimate, and parsing reports the real error.
    """
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub(b'""', data)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _unsafe_integer(where: str, value: int) -> str:
    digits = len(str(abs(value))) if abs(value) < 10**100 else "over 100"
    return (
        f"{where}: integer with {digits} digits is outside ±2**53, where numbers stop being "
        "exact (pass it as a string if it is an identifier)"
    )
