"""YAML documents loaded together with the line number of every mapping key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR_TAG = "tag:yaml.org,2002:str"

Path = tuple[Any, ...]


class YamlError(ValueError):
    """A document that is not valid YAML; `line` is 1-based (0 when unknown)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class Document:
    """A parsed YAML document: its value and where each key (by path) sits in the file."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    duplicates: list[tuple[Path, int]] = field(default_factory=list)
    bad_keys: list[tuple[Path, int]] = field(default_factory=list)

    def line(self, *path: Any) -> int:
        """The line of the deepest known key on `path` (1 for the document itself)."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1


def parse(text: str) -> Document:
    """Parse one YAML document; raise YamlError (with a line) when it is not valid YAML or uses
    an alias.

    Aliases (`*name`, and `<<: *name` merge keys) are refused before anything is built: a
    one-line recursive alias or a few hundred bytes of nested aliases (an "alias bomb") would
    otherwise expand into an endless or multi-gigabyte value. The check reads the event stream
    only, so it costs time linear in the file's size whatever the file holds.
    """
    try:
        _refuse_aliases(text)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 0
        problem = err.problem or err.context or "invalid YAML"
        raise YamlError(line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as err:
        raise YamlError(0, f"invalid YAML: {err}") from None
    doc = Document(data=data)
    if node is not None:
        _walk(node, (), doc)
    return doc


def _refuse_aliases(text: str) -> None:
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            raise YamlError(
                event.start_mark.line + 1,
                f"YAML alias '*{event.anchor}' is not allowed in these files: write the value "
                "out in full (aliases can expand without bound)",
            )


def _walk(node: yaml.Node, path: Path, doc: Document) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == _STR_TAG):
                doc.bad_keys.append((path, line))
                continue
            key = key_node.value
            if key in seen:
                doc.duplicates.append(((*path, key), line))
            seen.add(key)
            doc.lines[(*path, key)] = line
            _walk(value_node, (*path, key), doc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            doc.lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), doc)
