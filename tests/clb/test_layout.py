"""The kernel lives in platform/clb; platform/ itself must never shadow the stdlib."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_platform_is_the_standard_library_even_from_the_repo_root() -> None:
    code = "import platform, sysconfig; print(platform.__file__); print(platform.system())"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    module_file, system = result.stdout.splitlines()
    assert Path(module_file).parent == Path(__import__("sysconfig").get_paths()["stdlib"])
    assert system == "Linux"
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_kernel_and_domains_import_from_the_repo_root() -> None:
    code = (
        "import composition.app, chat.conversations.router, scheduling.booking_pages.router,"
        " toolbox.catalogue.router; print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "ok"


DOMAINS = ("chat", "scheduling", "toolbox")


def _imports(package_dir: Path) -> Iterator[tuple[Path, str]]:
    """Every module name imported anywhere in the package's files (also inside functions)."""
    for path in sorted(package_dir.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                yield from ((path, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield from ((path, f"{node.module}.{alias.name}") for alias in node.names)


def test_the_kernel_imports_no_domain_and_no_composition() -> None:
    outside = {"composition", "development", *DOMAINS}
    found = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path, name in _imports(ROOT / "platform" / "clb")
        if name.split(".")[0] in outside
    )
    assert found == []


def test_a_domain_uses_another_only_through_its_public_module() -> None:
    found = []
    for domain in DOMAINS:
        for path, name in _imports(ROOT / domain):
            top = name.split(".")[0]
            if top in DOMAINS and top != domain and not name.startswith(f"{top}.public"):
                found.append(f"{path.relative_to(ROOT)}: {name}")
    assert sorted(found) == []


SOURCE_ROOTS = ("chat", "scheduling", "toolbox", "platform")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
# "About 15 modules" a folder: counted without __init__.py.
MAX_FOLDER_MODULES = 16


def _source_files() -> Iterator[Path]:
    for root in SOURCE_ROOTS:
        for path in sorted((ROOT / root).rglob("*.py")):
            # Migrations are frozen history, written once per schema change.
            if "migrations" not in path.parts:
                yield path


def test_modules_and_functions_stay_small() -> None:
    too_long = []
    for path in _source_files():
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(ROOT))
        if text.count("\n") > MAX_MODULE_LINES:
            too_long.append(f"{name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}:{node.lineno} {node.name}() {length} lines")
    assert too_long == []


def test_no_folder_holds_more_than_about_fifteen_modules() -> None:
    folders = {path.parent for path in _source_files()}
    crowded = [
        f"{folder.relative_to(ROOT)}: {count}"
        for folder in sorted(folders)
        if (count := sum(1 for p in folder.glob("*.py") if p.name != "__init__.py"))
        > MAX_FOLDER_MODULES
    ]
    assert crowded == []
