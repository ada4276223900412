"""YAML read safely, with the line of every value kept for error messages."""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from ..errors import Problem

Path_ = tuple  # a key path such as ("contacts", 1, "email")


@dataclass
class Located:
    """Parsed YAML data plus the 1-based line and column of every key path."""

    data: object
    file: str
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    line_offset: int = 0

    def line(self, *path) -> int:
        """Line of ``path``, or of its nearest parent that has one."""
        path = tuple(path)
        while path:
            if path in self.marks:
                return self.marks[path][0] + self.line_offset
            path = path[:-1]
        return self.marks.get((), (1, 1))[0] + self.line_offset

    def col(self, *path) -> int | None:
        """Column of ``path``, or of its nearest parent that has one."""
        path = tuple(path)
        while path and path not in self.marks:
            path = path[:-1]
        mark = self.marks.get(path)
        return mark[1] if mark else None

    def problem(self, path: Path_, message: str, severity: str = "error") -> Problem:
        return Problem(self.file, self.line(*path), message, col=self.col(*path),
                       severity=severity)


def _walk(node, path, marks):
    """Record where each key path starts: a mapping entry at its key's line."""
    marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = path + (key_node.value,)
            marks[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _walk(value_node, child, marks)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (index,), marks)


class _Loader(yaml.SafeLoader):
    """The safe loader, but dates stay text: the schema reads them with line numbers."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str, file: str, line_offset: int = 0) -> Located:
    """Parse ``text`` with PyYAML's safe loader.

    Raises :class:`ValueError` subclasses are never leaked: a syntax error comes
    back as a :class:`~publisher.errors.Problem` inside ``YamlSyntaxError``.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Located({}, file, {(): (1, 1)}, line_offset)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = (mark.line + 1 + line_offset) if mark else line_offset + 1
        col = mark.column + 1 if mark else None
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlSyntaxError(
            Problem(file, line, f"invalid YAML: {what}; check indentation, colons and quotes",
                    col=col)
        ) from None
    finally:
        loader.dispose()
    marks: dict = {}
    _walk(node, (), marks)
    return Located(data, file, marks, line_offset)


class YamlSyntaxError(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))
