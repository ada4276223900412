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
    problems: list[Problem] = field(default_factory=list)  # duplicate keys
    limits: dict = field(default_factory=dict)  # the project's limits (site.yaml: limits)

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

    def problem(self, path: Path_, message: str, severity: str = "error", *,
                code: str) -> Problem:
        return Problem(self.file, self.line(*path), message, col=self.col(*path),
                       severity=severity, code=code)


class _Refused(Exception):
    def __init__(self, message: str, node, code: str = "Y002"):
        self.message, self.node, self.code = message, node, code


def _walk(node, path, marks, problems, file, line_offset, budget, depth=0, aliased=False):
    """Record where each key path starts (a mapping entry at its key's line) and
    every duplicate key; refuse documents that expand past ``budget``.  What an
    alias repeats is counted but not recorded: its lines are the anchor's."""
    budget["nodes"] -= 1
    if aliased:
        budget["expanded"] -= 1  # inside a value an alias repeats: that alias was counted once
    elif id(node) in budget["seen"]:  # met before: an alias (*name) refers to it
        aliased = True
        budget["aliases"] -= 1
        if budget["aliases"] < 0:
            raise _Refused(f"has more than {budget['alias_limit']} aliases (*name); write the "
                            "values out or raise 'limits: {yaml_aliases: …}' in site.yaml",
                            node)
    else:
        budget["seen"].add(id(node))
    if budget["nodes"] < 0 or budget["expanded"] < 0:
        raise _Refused(f"expands to more than {budget['limit']} values (aliases?); make it "
                        "smaller or raise 'limits: {yaml_nodes: …}' in site.yaml", node)
    if depth > 50:
        raise _Refused("is nested more than 50 levels deep (or an alias refers to itself)",
                        node)
    if not aliased:
        marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith((":int", ":float")) \
            and len(node.value) > 40:
        raise _Refused(f"number has {len(node.value)} characters; a figure has at most 30 "
                        "digits", node)
    if isinstance(node, yaml.MappingNode):
        seen: dict = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):  # ? [a, b]: a list as a key
                raise _Refused("has a list or a mapping as a key; a key is a word, such as "
                               "title:", key_node, "Y004")
            key = key_node.value
            if isinstance(key, str) and key in seen:
                if not aliased:  # said once, at the anchor, not at each alias
                    problems.append(Problem(
                        file, line + line_offset,
                        f"'{key}' is given twice (first at line {seen[key] + line_offset}); "
                        "keep one", col=key_node.start_mark.column + 1, code="Y003"))
                continue
            seen.setdefault(key, line)
            child = path + (key,)
            if not aliased:
                marks[child] = (line, key_node.start_mark.column + 1)
            _walk(value_node, child, marks, problems, file, line_offset, budget, depth + 1,
                  aliased)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (index,), marks, problems, file, line_offset, budget, depth + 1,
                  aliased)


_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml


class _Loader(_Base):  # type: ignore[valid-type,misc]  # chosen at import: libyaml's when there
    """The safe loader, but dates stay text (the schema reads them with line
    numbers). Aliases are counted, and values with their aliases expanded, as the
    document is walked (:func:`_walk`): a "billion laughs" document is refused
    before it is constructed."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str, file: str, line_offset: int = 0,
               limits: dict | None = None, document_nodes: int | None = None) -> Located:
    """Parse ``text`` with PyYAML's safe loader.

    Raises :class:`YamlSyntaxError` (holding a :class:`~publisher.errors.Problem`)
    for a document that cannot be read; no PyYAML exception leaks.  A key
    given twice is an error kept in ``Located.problems``.  The document may hold
    ``document_nodes`` values of its own (default: the ``yaml_nodes`` limit);
    what its aliases repeat is bounded by ``yaml_nodes`` either way.
    """
    from ..defaults import limits as merged_limits

    limits = merged_limits(limits)
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is None:
            return Located({}, file, {(): (1, 1)}, line_offset)
        marks: dict = {}
        problems: list[Problem] = []
        most = int(limits["yaml_nodes"])
        budget = {"nodes": document_nodes or most, "expanded": most, "limit": most,
                  "aliases": int(limits["yaml_aliases"]),
                  "alias_limit": int(limits["yaml_aliases"]), "seen": set()}
        _walk(node, (), marks, problems, file, line_offset, budget)
        data = loader.construct_document(node)
    except _Refused as exc:
        mark = exc.node.start_mark
        raise YamlSyntaxError(Problem(file, mark.line + 1 + line_offset,
                                      f"this YAML {exc.message}", col=mark.column + 1,
                                      code=exc.code)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = (mark.line + 1 + line_offset) if mark else line_offset + 1
        col = mark.column + 1 if mark else None
        if isinstance(exc, yaml.reader.ReaderError):
            line, col = _reader_position(text, exc.position, line_offset)
            what = (f"the character U+{exc.character:04X} is not allowed"
                    if isinstance(exc.character, int) else "unreadable character")
        else:
            what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlSyntaxError(
            Problem(file, line, f"invalid YAML: {what}; check indentation, colons and quotes",
                    col=col, code="Y001")
        ) from None
    except RecursionError:
        raise YamlSyntaxError(Problem(file, line_offset + 1, "this YAML is nested too deeply; "
                                                             "flatten it", code="Y002")) from None
    finally:
        if loader is not None:
            loader.dispose()
    return Located(data, file, marks, line_offset, problems, limits)


def _reader_position(text: str, index: int, line_offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1 + line_offset
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


class YamlSyntaxError(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))
