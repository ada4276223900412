"""The package's shape: data flows one way; above the orchestrator sit only the
features that use it (the gate, sending, serving, watching) and, above them,
the commands."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "publisher"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every publisher module that `path` imports, at module level or inside
    functions, including the lazy `library("module:function")` references of
    the command line (`"pipeline:build"`)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and ":" in node.value:
            found.add("publisher." + node.value.partition(":")[0])
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    return {m for m in found if m in modules and m != name}


GRAPH = {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}
STAGES = ["publisher.load", "publisher.localise", "publisher.compose",
          "publisher.render", "publisher.bundle", "publisher.write"]
# the parts of a build below the orchestrator: what the actions read, the plan,
# the actions, the executor, the build folder
PARTS = ["publisher.keys", "publisher.tree", "publisher.workspace", "publisher.plan",
         "publisher.actions", "publisher.execute", "publisher.buildfolder"]
FEATURES = ("publisher.gate", "publisher.sending", "publisher.serving", "publisher.watch")
COMMANDS = {m for m in GRAPH if m.startswith("publisher.commands")}


def _feature(module: str) -> bool:
    return module in FEATURES or module.startswith(tuple(f + "." for f in FEATURES))


def test_the_graph_is_read():
    # A parser that saw nothing would pass every test below.
    assert "publisher.render" in GRAPH["publisher.actions"]
    assert "publisher.execute" in GRAPH["publisher.pipeline"]
    assert "publisher.pipeline" in GRAPH["publisher.gate.run"]
    assert "publisher.pipeline" in GRAPH["publisher.commands.cli"]


def test_no_import_cycle():
    def visit(module, trail):
        if module in trail:
            cycle = trail[trail.index(module):] + [module]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        for imported in GRAPH.get(module, ()):
            visit(imported, trail + [module])

    for module in GRAPH:
        visit(module, [])


def test_only_features_and_commands_import_the_orchestrator():
    importers = {m for m, imported in GRAPH.items() if "publisher.pipeline" in imported}
    assert importers - {"publisher"} <= COMMANDS | {m for m in GRAPH if _feature(m)}


def test_no_feature_imports_the_commands():
    for module in (m for m in GRAPH if _feature(m)):
        assert not GRAPH[module] & COMMANDS, f"{module} imports {sorted(GRAPH[module] & COMMANDS)}"


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_calls_no_later_stage(stage):
    later = set(STAGES[STAGES.index(stage) + 1:]) | {"publisher.pipeline", *PARTS}
    later |= COMMANDS | {m for m in GRAPH if _feature(m)}
    assert not GRAPH[stage] & later, f"{stage} imports {sorted(GRAPH[stage] & later)}"


@pytest.mark.parametrize("part", PARTS)
def test_no_action_module_imports_the_orchestrator_the_executor_or_the_commands(part):
    above = {"publisher.pipeline"} | COMMANDS | {m for m in GRAPH if _feature(m)}
    if part != "publisher.execute":
        above.add("publisher.execute")
    assert part in GRAPH and not GRAPH[part] & above, \
        f"{part} imports {sorted(GRAPH[part] & above)}"


def test_only_the_orchestrator_uses_the_executor_and_the_build_folder():
    for part in ("publisher.execute", "publisher.buildfolder"):
        users = {m for m, imported in GRAPH.items() if part in imported}
        assert users <= {"publisher.pipeline", "publisher.buildfolder"}, (part, users)


def test_no_class_is_larger_than_one_sitting():
    large = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                methods = sum(isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                              for item in node.body)
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if methods > 15 or lines > 300:
                    large.append(f"{_module_name(path)}.{node.name}: {methods} methods, "
                                 f"{lines} lines")
    assert large == []
