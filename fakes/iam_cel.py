"""The part of CEL that IAM and Workload Identity conditions use here, evaluated as Google does.

Supported: attribute paths (`resource.name`, `assertion.sub`), string literals, `==`, `!=`,
`!`, `&&`, `||`, parentheses and the `startsWith` / `endsWith` string functions. Anything else
is a syntax error, which the fake gcloud reports as IAM does (INVALID_ARGUMENT).

An attribute the request does not carry is *unknown*, not empty: "If part of a condition uses an
attribute that isn't available, then that part of the condition is never interpreted as granting
access" (Attribute reference for IAM Conditions, "Support for inherited conditions";
https://cloud.google.com/iam/docs/conditions-attribute-reference). Resource attributes are
available only for the services that page lists (Cloud Storage, Cloud Logging, ...; not
Dataproc, Cloud Monitoring, Vertex AI or Cloud Run). Unknown therefore propagates like CEL's
error value: `true || unknown` is true, `false && unknown` is false, every other use of it is
unknown, and a condition grants only when it evaluates to true. Standard library only (the fake
gcloud imports it without site-packages).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Union

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>==|!=|&&|\|\||[!().,])
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_FUNCTIONS = {"startsWith": str.startswith, "endsWith": str.endswith}


class Unknown:
    """The value of an attribute the request does not carry."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = Unknown()
Value = Union[str, bool, Unknown]  # noqa: UP007 - a runtime alias, read by people


class ConditionSyntaxError(ValueError):
    """The expression is not in the supported subset of CEL."""


@dataclass(frozen=True)
class Expression:
    """A parsed condition: `evaluate(attributes)` -> True, False or UNKNOWN."""

    text: str
    _root: Callable[[Mapping[str, str]], Value]

    def evaluate(self, attributes: Mapping[str, str]) -> Value:
        return self._root(attributes)

    def grants(self, attributes: Mapping[str, str]) -> bool:
        """Whether the condition grants: only an expression that evaluates to true does."""
        return self.evaluate(attributes) is True

    def attributes(self) -> set[str]:
        """The attribute paths the expression reads (e.g. {"resource.name"})."""
        return set(_PATHS.findall(_strip_strings(self.text)))


_PATHS = re.compile(r"\b([a-z]+(?:\.[A-Za-z_][A-Za-z0-9_]*)+)\b(?!\s*\()")


def _strip_strings(text: str) -> str:
    return re.sub(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'", '""', text)


def parse(text: str) -> Expression:
    """Parse `text`; ConditionSyntaxError naming what is wrong where."""
    tokens = _tokens(text)
    parser = _Parser(tokens, text)
    root = parser.expression()
    if parser.position != len(tokens):
        raise ConditionSyntaxError(f"unexpected {tokens[parser.position][1]!r} in {text!r}")
    return Expression(text, root)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match:
            raise ConditionSyntaxError(f"cannot read {text[position : position + 20]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        position = match.end()
    if not out:
        raise ConditionSyntaxError("empty expression")
    return out


Node = Callable[[Mapping[str, str]], Value]


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], text: str) -> None:
        self.tokens, self.text, self.position = tokens, text, 0

    def peek(self) -> str:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise ConditionSyntaxError(f"expression ends early: {self.text!r}")
        token = self.tokens[self.position]
        if expected is not None and token[1] != expected:
            raise ConditionSyntaxError(f"expected {expected!r}, got {token[1]!r} in {self.text!r}")
        self.position += 1
        return token

    def expression(self) -> Node:
        return self.joined("||", self.conjunction, decisive=True)

    def conjunction(self) -> Node:
        return self.joined("&&", self.unary, decisive=False)

    def joined(self, operator: str, operand: Callable[[], Node], decisive: bool) -> Node:
        """Operands joined by `operator` (`||`: decisive True, `&&`: False), left to right."""
        left = operand()
        while self.peek() == operator:
            self.take()
            left = _junction(left, operand(), decisive)
        return left

    def unary(self) -> Node:
        if self.peek() == "!":
            self.take()
            return _not(self.unary())
        return self.comparison()

    def comparison(self) -> Node:
        left = self.operand()
        if self.peek() in ("==", "!="):
            op = self.take()[1]
            return _compare(left, self.operand(), op == "==")
        return left

    def operand(self) -> Node:
        if self.peek() == "(":
            self.take()
            inner = self.expression()
            self.take(")")
            return inner
        kind, value = self.take()
        if kind == "string":
            literal = value[1:-1].encode().decode("unicode_escape")
            return lambda _attributes: literal
        if kind != "name":
            raise ConditionSyntaxError(f"unexpected {value!r} in {self.text!r}")
        if value in ("true", "false"):
            return lambda _attributes: value == "true"
        path = [value]
        while self.peek() == ".":
            self.take()
            name = self.take()[1]
            if self.peek() == "(":
                return self.call(".".join(path), name)
            path.append(name)
        dotted = ".".join(path)
        return lambda attributes: attributes.get(dotted, UNKNOWN)

    def call(self, path: str, function: str) -> Node:
        if function not in _FUNCTIONS:
            raise ConditionSyntaxError(f"function {function}() is not supported here")
        self.take("(")
        kind, argument = self.take()
        if kind != "string":
            raise ConditionSyntaxError(f"{function}() takes a string literal in {self.text!r}")
        self.take(")")
        literal = argument[1:-1].encode().decode("unicode_escape")
        test = _FUNCTIONS[function]

        def node(attributes: Mapping[str, str]) -> Value:
            value = attributes.get(path, UNKNOWN)
            return UNKNOWN if isinstance(value, Unknown) else test(str(value), literal)

        return node


def _junction(left: Node, right: Node, decisive: bool) -> Node:
    """`||` (decisive True) or `&&` (decisive False) in CEL's three-valued logic: one decisive
    operand decides, whatever the other is; otherwise an unknown operand leaves it unknown."""

    def node(attributes: Mapping[str, str]) -> Value:
        values = (left(attributes), right(attributes))
        if decisive in values:
            return decisive
        return UNKNOWN if any(isinstance(v, Unknown) for v in values) else not decisive

    return node


def _not(inner: Node) -> Node:
    def node(attributes: Mapping[str, str]) -> Value:
        value = inner(attributes)
        return value if isinstance(value, Unknown) else not value

    return node


def _compare(left: Node, right: Node, equal: bool) -> Node:
    def node(attributes: Mapping[str, str]) -> Value:
        a, b = left(attributes), right(attributes)
        if isinstance(a, Unknown) or isinstance(b, Unknown):
            return UNKNOWN
        return (a == b) is equal

    return node
