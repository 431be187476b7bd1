"""The sandbox imports only the standard library, Flask/Werkzeug (and click, Flask's own
dependency), never the rest of the portal: it must judge the portal's Exact client honestly."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import exact_sandbox as package

ALLOWED = {"flask", "werkzeug", "click"}
# a module's own extra, imported only where it is used (tests; making a TLS certificate)
EXTRAS = {"pytest_plugin.py": {"pytest"}, "tls.py": {"cryptography"}}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_sandbox_imports_only_stdlib_and_flask():
    folder = Path(package.__file__).parent
    modules = sorted(folder.glob("*.py"))
    assert len(modules) > 10
    for module in modules:
        allowed = ALLOWED | EXTRAS.get(module.name, set()) | set(sys.stdlib_module_names)
        outside = imported_roots(module) - allowed
        assert not outside, f"{module.name} imports {sorted(outside)}"
