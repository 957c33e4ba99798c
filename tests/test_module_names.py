"""`ProjectIndex.module_id` / `module_ids`: the names a project file is imported by, from the
package folders above it and the module roots up to the project root."""

from __future__ import annotations

from pathlib import Path

from timestamp_lint.config import load_config
from timestamp_lint.index import ModuleId, ProjectIndex

FILES = [
    "pyproject.toml",
    "pkg/__init__.py",
    "pkg/sub/__init__.py",
    "pkg/sub/models.py",
    "pkg/data/loader.py",  # `data` has no __init__.py: a namespace folder
    "scripts/run.py",
    "service/manage.py",  # a module root below the project root
    "service/shop/__init__.py",
    "service/shop/orders.v2.py",  # not an identifier: no dotted name through the root
]


def _index(root: Path) -> ProjectIndex:
    for name in FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("[tool.timestamp-lint]\n" if name.endswith(".toml") else "")
    return ProjectIndex(load_config(root))


def _names(index: ProjectIndex, root: Path, name: str) -> list[tuple[str, str, bool]]:
    ids = index.module_ids(root / name)
    assert ids[0] == index.module_id(root / name)
    return [(m.name, m.root.relative_to(root).as_posix(), m.is_package) for m in ids]


def test_module_names_from_packages_and_roots(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    index = _index(root)
    assert index.module_id(root / "pkg/__init__.py") == ModuleId("pkg", root, True)
    assert _names(index, root, "pkg/sub/__init__.py") == [("pkg.sub", ".", True)]
    assert _names(index, root, "pkg/sub/models.py") == [("pkg.sub.models", ".", False)]
    assert _names(index, root, "pkg/data/loader.py") == [
        ("loader", "pkg/data", False),
        ("pkg.data.loader", ".", False),  # through the namespace folder (PEP 420)
    ]
    assert _names(index, root, "scripts/run.py") == [
        ("run", "scripts", False),
        ("scripts.run", ".", False),
    ]
    assert _names(index, root, "service/manage.py") == [
        ("manage", "service", False),
        ("service.manage", ".", False),
    ]
    dotted = [("shop.orders.v2", "service", False)]
    assert _names(index, root, "service/shop/orders.v2.py") == dotted


def test_module_names_are_found_by_name(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    index = _index(root)
    assert index.find_module("pkg.sub.models", None) == root / "pkg/sub/models.py"
    assert index.find_module("pkg.data.loader", None) == root / "pkg/data/loader.py"
    assert index.find_module("shop", None) == root / "service/shop/__init__.py"
    assert index.find_module("pkg.missing", None) is None
