"""TSL004's unsafe fixes: golden before/after files, the invariants, and how every output,
flag and the server carry them.

The fixture projects `fixtures/clone_fixes` (every shape the fix rewrites, and those it
leaves alone) and `fixtures/clones_*` (SQLAlchemy, Flask-SQLAlchemy, Django) hold a
`NAME.py.fixed` golden file beside each file `--fix --unsafe-fixes` changes. Run with
TSL_UPDATE_SNAPSHOTS=1 to rewrite them after a deliberate change.
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timestamp_lint import analysis
from timestamp_lint import fix as fixer
from timestamp_lint.api import Options, fix_paths, lint_paths, make_engine, resolve_config
from timestamp_lint.ftypes import Applicability

from .conftest import FIXTURES, remove_reported, run_cli

NO_CACHE = Options(cache=False)
EDITS = Options(cache=False, edits=True)
# (fixture project, the codes fixed there): the clones_* projects hold TSL001 findings too,
# whose fixes have golden files of their own elsewhere
PROJECTS = [
    ("clone_fixes", ("TSL",)),
    ("clones_sqlalchemy", ("TSL004",)),
    ("clones_flask", ("TSL004",)),
    ("clones_django", ("TSL004",)),
]
CASES = "shop/cases.py"  # in clone_fixes
# the TSL004 findings of clone_fixes that get no fix, by line: a local bound on two paths,
# a loop that does more than copy, a one-line loop, make_transient, copy.copy then add
NO_FIX = [42, 81, 88, 94, 101]
KEYS_RE = re.compile(r"with its ('[^;]*?') timestamps?;|copies its ('[^;]*?') timestamps? into")


@pytest.fixture
def clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def make(name: str) -> Path:
        root = tmp_path / name
        shutil.copytree(FIXTURES / name, root, ignore=shutil.ignore_patterns("*.fixed"))
        monkeypatch.chdir(root)
        return root

    return make


def _config(root: Path, select: tuple[str, ...]):
    return replace(resolve_config([root]), select=select)


def _keys(message: str) -> list[str]:
    """The timestamp keys a TSL004 message reports ("with its 'a' and 'b' timestamps")."""
    match = KEYS_RE.search(message)
    assert match, message
    return re.findall(r"'([^']+)'", match.group(1) or match.group(2))


# --------------------------------------------------------------------------- golden files


@pytest.mark.parametrize("path", ["located", "analysed whole"])
@pytest.mark.parametrize(("name", "select"), PROJECTS)
def test_golden_files(clone, monkeypatch, name: str, select, path: str) -> None:
    """The fixed files, whether the nodes are found in the whole module by position or the
    file is analysed again whole; files without a golden file stay byte for byte."""
    root = clone(name)
    if path == "analysed whole":
        monkeypatch.setattr(analysis, "locate", lambda text, violations: None)
    result = fix_paths(["."], config=_config(root, select), unsafe=True, options=NO_CACHE)
    assert result.fixed > 0 and not result.errors
    source = FIXTURES / name
    changed = sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*.py")
        if p.read_bytes() != (source / p.relative_to(root)).read_bytes()
    )
    if os.environ.get("TSL_UPDATE_SNAPSHOTS"):
        for old in source.rglob("*.py.fixed"):
            old.unlink()
        for file in changed:
            (source / f"{file}.fixed").write_bytes((root / file).read_bytes())
    goldens = sorted(
        p.relative_to(source).as_posix()[: -len(".fixed")] for p in source.rglob("*.py.fixed")
    )
    assert changed == goldens
    for file in changed:
        assert (root / file).read_bytes() == (source / f"{file}.fixed").read_bytes(), file


def test_edits_on_the_analysed_parts_give_the_same_file(clone) -> None:
    """The edits computed statement by statement (`Engine.fixed_text`, what `--fix` tries
    first) give the golden file too."""
    root = clone("clone_fixes")
    engine = make_engine(resolve_config([root]))
    result = engine.lint_file(root / CASES, whole=True)
    violations = [v for _, v in result.removals]
    assert any(v.rewrite is not None for v in violations)
    text = engine.fixed_text(result, violations)
    assert text == (FIXTURES / "clone_fixes" / f"{CASES}.fixed").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- invariants


def _expected_tree(source: str, findings) -> ast.Module:
    """The original's AST with each fix made by hand, on `ast`: the reported keys left out
    of each cloned mapping (one more `if` on a comprehension over the columns whose key is a
    name or attribute, else a filtering comprehension around the mapping), a `continue`
    guard first in each fixed loop, and TSL001's keyword removed."""
    tree = ast.parse(source)
    lines = source.splitlines()

    def spot(f) -> tuple[int, int]:
        return f.line, len(lines[f.line - 1][: f.column - 1].encode())

    def test(key: str, keys: list[str], negate: bool) -> ast.expr:
        if len(keys) == 1:
            text = f"{key} {'!=' if negate else '=='} {keys[0]!r}"
        else:
            text = f"{key} {'not in' if negate else 'in'} {tuple(keys)!r}"
        return ast.parse(text, mode="eval").body

    clones = {spot(f): _keys(f.message) for f in findings if f.code == "TSL004"}
    remove_reported(tree, {spot(f) for f in findings if f.code == "TSL001"})
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                keys = clones.get((keyword.lineno, keyword.col_offset))
                if keys is None or keyword.arg is not None:
                    continue
                value = keyword.value
                simple = isinstance(value, ast.DictComp) and len(value.generators) == 1
                key = value.key if simple else None
                while isinstance(key, ast.Attribute):
                    key = key.value
                if simple and isinstance(key, ast.Name):
                    value.generators[0].ifs.append(test(ast.unparse(value.key), keys, True))
                else:
                    condition = ast.unparse(test("k", keys, True))
                    keyword.value = ast.parse(
                        f"{{k: v for k, v in ({ast.unparse(value)}).items() if {condition}}}",
                        mode="eval",
                    ).body
        elif isinstance(node, ast.For | ast.AsyncFor) and len(node.body) == 1:
            statement = node.body[0]
            keys = clones.get((statement.lineno, statement.col_offset))
            if keys is not None:
                key = ast.unparse(statement.value.args[1])
                node.body.insert(0, ast.If(test(key, keys, False), [ast.Continue()], []))
    return tree


class _Conjunctions(ast.NodeTransformer):
    """`for x in y if a if b` and `for x in y if a and b` are one test: one flat `and`."""

    def visit_comprehension(self, node: ast.comprehension) -> ast.comprehension:
        self.generic_visit(node)
        operands: list[ast.expr] = []
        pending = list(node.ifs)
        while pending:
            test = pending.pop(0)
            if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
                pending[:0] = test.values
            else:
                operands.append(test)
        node.ifs = [ast.BoolOp(ast.And(), operands)] if len(operands) > 1 else operands
        return node


def _normal(tree: ast.Module) -> str:
    return ast.dump(_Conjunctions().visit(tree))


def test_fix_invariants(clone) -> None:
    root = clone("clone_fixes")
    path = root / CASES
    before = path.read_text(encoding="utf-8")
    findings = lint_paths([path], options=EDITS).findings
    fixable = [f for f in findings if f.fix is not None]
    clones = [f for f in fixable if f.code == "TSL004"]
    assert len(clones) == 12
    assert sorted(f.line for f in findings if f.code == "TSL004" and f.fix is None) == NO_FIX
    tree = ast.parse(before)
    for finding in clones:
        # unsafe, one edit inside the finding's own statement that keeps the text it
        # replaces (a clone's fix only adds), and alone it gives valid Python
        assert finding.fix.applicability is Applicability.UNSAFE
        (edit,) = finding.fix.edits
        statement = next(
            s
            for s in ast.walk(tree)
            if isinstance(s, ast.stmt)
            and not isinstance(s, ast.FunctionDef)
            and s.lineno <= finding.line <= s.end_lineno
        )
        assert statement.lineno <= edit.line <= edit.end_line <= statement.end_lineno
        replaced = fixer.apply_edits(before, [edit])
        start = _offset(before, edit.line, edit.column)
        end = _offset(before, edit.end_line, edit.end_column)
        assert replaced.startswith(before[:start]) and replaced.endswith(before[end:])
        assert before[start:end] in edit.replacement
        ast.parse(replaced)
        for key in _keys(finding.message):  # the keys the finding names, learned ones too
            assert replaced.count(f'"{key}"') == before.count(f'"{key}"') + 1
    result = fix_paths([path], unsafe=True, options=NO_CACHE)
    after = path.read_text(encoding="utf-8")
    assert result.fixed == len(fixable)
    assert _normal(ast.parse(after)) == _normal(_expected_tree(before, fixable))
    # fixed once, nothing left to fix: the clones without a fix remain, with no fix
    again = lint_paths([path], options=NO_CACHE).findings
    assert [f for f in again if f.fix is not None] == []
    assert fix_paths([path], unsafe=True, options=NO_CACHE).fixed == 0
    assert path.read_text(encoding="utf-8") == after


def _offset(text: str, line: int, column: int) -> int:
    starts = [0, *(m.end() for m in re.finditer(r"\r\n|\r|\n", text))]
    return starts[line - 1] + column - 1


def test_clones_left_after_the_fix_are_those_without_one(clone) -> None:
    root = clone("clone_fixes")
    path = root / CASES
    before = [(f.message, f.fix is None) for f in lint_paths([path], options=NO_CACHE).findings]
    fix_paths([path], unsafe=True, options=NO_CACHE)
    after = lint_paths([path], options=NO_CACHE).findings
    unfixed = sorted(message for message, none in before if none)
    assert sorted(f.message for f in after) == unfixed  # TSL003 in models.py is not linted


def test_crlf_and_other_bytes_survive(tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(FIXTURES / "clone_fixes", root, ignore=shutil.ignore_patterns("*.fixed"))
    source = (
        "from shop.models import Board, Note\r\n"
        "\r\n"
        "\r\n"
        "def f(note: Note, old: Board) -> tuple:\r\n"
        "    new = Board(name=old.name)\r\n"
        "    for column in Board.__table__.columns:\r\n"
        "        setattr(new, column.name, getattr(old, column.name))  # copy\r\n"
        "    return Note(**vars(note)), new  # caf\u00e9\r\n"
    )
    path = root / "shop" / "crlf.py"
    path.write_bytes(source.encode())
    result = fix_paths([path], unsafe=True, options=NO_CACHE)
    assert result.fixed == 2 and not result.errors
    fixed = path.read_bytes().decode()
    assert "\n" not in fixed.replace("\r\n", "")  # every new line ends as the file's do
    assert fixed == (
        "from shop.models import Board, Note\r\n"
        "\r\n"
        "\r\n"
        "def f(note: Note, old: Board) -> tuple:\r\n"
        "    new = Board(name=old.name)\r\n"
        "    for column in Board.__table__.columns:\r\n"
        '        if column.name in ("created", "modified_at"):\r\n'
        "            continue\r\n"
        "        setattr(new, column.name, getattr(old, column.name))  # copy\r\n"
        '    return Note(**{k: v for k, v in vars(note).items() if k not in ("created_at", '
        '"updated_at")}), new  # caf\u00e9\r\n'
    )


# --------------------------------------------------------------------------- flags, outputs


def test_unsafe_fixes_are_off_by_default(clone) -> None:
    root = clone("clones_sqlalchemy")
    path = root / "catalog/services/clones.py"
    before = path.read_bytes()
    done = run_cli("--select", "TSL004", "--fix", "--no-cache", cwd=root)
    assert done.returncode == 1
    assert path.read_bytes() == before
    assert done.stdout.splitlines()[-2:] == [
        "Fixed 0 findings (10 remaining).",
        "8 hidden fixes can be enabled with the `--unsafe-fixes` option.",
    ]
    diff = run_cli("--select", "TSL004", "--diff", "--no-cache", cwd=root)
    assert (diff.returncode, diff.stdout) == (0, "")
    assert diff.stderr.splitlines() == [
        "Would fix 0 findings.",
        "8 hidden fixes can be enabled with the `--unsafe-fixes` option.",
    ]
    plain = run_cli("--select", "TSL004", "--no-cache", cwd=root)
    assert plain.stdout.endswith("8 more fixes available with `--fix --unsafe-fixes`.\n")
    unsafe = run_cli("--select", "TSL004", "--fix", "--unsafe-fixes", "--no-cache", cwd=root)
    assert unsafe.stdout.splitlines()[-1] == "Fixed 8 findings (2 remaining)."
    assert path.read_bytes() != before


def test_diff_agrees_with_fix(clone) -> None:
    root = clone("clone_fixes")
    before = (root / CASES).read_text(encoding="utf-8")
    diff = run_cli("--diff", "--unsafe-fixes", "--no-cache", cwd=root)
    assert diff.returncode == 1
    assert diff.stderr == "Would fix 13 findings.\n"
    assert (root / CASES).read_text(encoding="utf-8") == before
    run_cli("--fix", "--unsafe-fixes", "--no-cache", cwd=root)
    after = (root / CASES).read_text(encoding="utf-8")
    expected = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{CASES}",
        tofile=f"b/{CASES}",
    )
    assert diff.stdout == "".join(expected)


def test_statistics_count_clones_fixable_only_with_unsafe_fixes(clone) -> None:
    root = clone("clones_sqlalchemy")
    args = ("--statistics", "--select", "TSL004", "--output-format", "json", "--no-cache")
    (row,) = json.loads(run_cli(*args, cwd=root).stdout)
    assert (row["code"], row["count"], row["fixable"]) == ("TSL004", 10, 0)
    (row,) = json.loads(run_cli(*args, "--unsafe-fixes", cwd=root).stdout)
    assert row["fixable"] == 8


def test_json_and_sarif_carry_the_fix(clone) -> None:
    root = clone("clone_fixes")
    before = (root / CASES).read_text(encoding="utf-8")
    findings = json.loads(run_cli("--output-format", "json", "--no-cache", cwd=root).stdout)
    by_line = {f["line"]: f for f in findings if f["code"] == "TSL004"}
    for line, finding in by_line.items():
        if line in NO_FIX:
            assert finding["fix"] is None
            continue
        assert finding["fix"]["applicability"] == "unsafe"
        assert "(unsafe: " in finding["fix"]["message"]
    assert "`if column.name not in" in by_line[47]["fix"]["message"]
    assert "Board.modified_at has no insert default" in by_line[47]["fix"]["message"]
    assert "continue`" in by_line[74]["fix"]["message"]
    log = json.loads(run_cli("--output-format", "sarif", "--no-cache", cwd=root).stdout)
    edits = []
    for result in log["runs"][0]["results"]:
        line = result["locations"][0]["physicalLocation"]["region"]["startLine"]
        if result["ruleId"] != "TSL004" or line in NO_FIX:
            assert result["ruleId"] != "TSL004" or "fixes" not in result
            if "fixes" in result:  # TSL001: its own edit
                edits.extend(_sarif_edits(result))
            continue
        (fix,) = result["fixes"]
        assert fix["properties"] == {"applicability": "unsafe"}
        assert fix["description"]["text"] == by_line[line]["fix"]["message"]
        edits.extend(_sarif_edits(result))
    # the SARIF edits, applied together, are what --fix --unsafe-fixes writes
    run_cli("--fix", "--unsafe-fixes", "--no-cache", cwd=root)
    cases = [e for path, e in edits if path == CASES]
    assert fixer.apply_edits(before, cases) == (root / CASES).read_text(encoding="utf-8")


def _sarif_edits(result: dict) -> list:
    found = []
    for change in result["fixes"][0]["artifactChanges"]:
        for r in change["replacements"]:
            region = r["deletedRegion"]
            edit = fixer.Edit(
                region["startLine"],
                region["startColumn"],
                region["endLine"],
                region["endColumn"],
                r["insertedContent"]["text"],
            )
            found.append((change["artifactLocation"]["uri"], edit))
    return found


def test_rule_doc_describes_the_fix() -> None:
    done = run_cli("rule", "TSL004", cwd=FIXTURES)
    assert done.returncode == 0
    text = done.stdout
    assert "## Fix safety" in text and "--unsafe-fixes" in text
    assert "if k not in" in text  # an example of what the fix writes


def test_unsafe_fixes_setting(clone) -> None:
    """`unsafe-fixes = true` in the configuration, as in Ruff; `--no-unsafe-fixes` wins."""
    root = clone("clones_sqlalchemy")
    path = root / "catalog/services/clones.py"
    before = path.read_bytes()
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "unsafe-fixes = true\n")
    shown = run_cli("--show-settings", cwd=root).stdout
    assert "unsafe-fixes = true" in shown.splitlines()
    off = run_cli("--select", "TSL004", "--fix", "--no-unsafe-fixes", "--no-cache", cwd=root)
    assert path.read_bytes() == before
    assert off.stdout.splitlines()[-1] == (
        "8 hidden fixes can be enabled with the `--unsafe-fixes` option."
    )
    plain = run_cli("--select", "TSL004", "--no-cache", cwd=root)
    assert plain.stdout.endswith("Found 10 findings.\n8 fixes available with `--fix`.\n")
    on = run_cli("--select", "TSL004", "--fix", "--no-cache", cwd=root)
    assert on.stdout.splitlines()[-1] == "Fixed 8 findings (2 remaining)."
    golden = FIXTURES / "clones_sqlalchemy/catalog/services/clones.py.fixed"
    assert path.read_bytes() == golden.read_bytes()


def test_unsafe_fixes_setting_on_the_command_line_and_its_errors(clone) -> None:
    root = clone("clones_sqlalchemy")
    path = root / "catalog/services/clones.py"
    done = run_cli(
        "--select", "TSL004", "--config", "unsafe-fixes = true", "--diff", "--no-cache", cwd=root
    )
    assert done.stderr == "Would fix 8 findings.\n"
    (root / "pyproject.toml").write_text('[tool.timestamp-lint]\nunsafe-fixes = "yes"\n')
    bad = run_cli("--fix", "--no-cache", cwd=root)
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1
    assert "unsafe-fixes" in bad.stderr and "Traceback" not in bad.stderr
    assert (
        path.read_bytes()
        == (FIXTURES / "clones_sqlalchemy/catalog/services/clones.py").read_bytes()
    )


# --------------------------------------------------------------------------- generated shapes

MAPPINGS = [
    "vars(note)",
    "note.__dict__",
    "(note.__dict__)",
    "note.to_dict()",
    "dict(vars(note))",
    "{**vars(note)}",
    "data",
    "{c.name: getattr(note, c.name) for c in Note.__table__.columns}",
    '{c.name: getattr(note, c.name) for c in Note.__table__.columns if not c.name.startswith("_")}',
    '{k: v for k, v in vars(note).items() if flag or not k.startswith("_")}',
    "{a.key: getattr(note, a.key) for a in inspect(note).mapper.column_attrs}",
]
COMMENTS = ["", "  # a comment", "  # noqa: E501"]


@st.composite
def clone_program(draw) -> str:
    """A function with one TSL004 shape the fix rewrites, laid out in one of several ways."""
    head = (
        "from sqlalchemy import inspect\n\nfrom shop.models import Board, Note\n\n\n"
        "def f(note: Note, old: Board, flag: bool):\n"
    )
    if draw(st.booleans()):
        mapping = draw(st.sampled_from(MAPPINGS))
        body = "    data = note.to_dict()\n" if mapping == "data" else ""
        comment = draw(st.sampled_from(COMMENTS))
        layout = draw(st.sampled_from(["inline", "lines", "lines-comma", "keyword-first"]))
        if layout == "inline":
            body += f"    return Note(**{mapping}){comment}\n"
        elif layout == "lines":
            body += f"    return Note(\n        **{mapping}{comment}\n    )\n"
        elif layout == "lines-comma":
            body += f"    return Note(\n        # all of it\n        **{mapping},{comment}\n    )\n"
        else:
            body += f"    return Note(title=old.name, **{mapping}){comment}\n"
        return head + body
    target = draw(st.sampled_from(["column", "c"]))
    key = draw(st.sampled_from([f"{target}.name", f"{target}.key"]))
    before = draw(st.sampled_from(["", "        # copy it\n", "\n"]))
    comment = draw(st.sampled_from(COMMENTS))
    return head + (
        "    new = Board(name=old.name)\n"
        f"    for {target} in Board.__table__.columns:\n"
        f"{before}        setattr(new, {key}, getattr(old, {key})){comment}\n"
        "    return new\n"
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("generated") / "clone_fixes"
    shutil.copytree(FIXTURES / "clone_fixes", root, ignore=shutil.ignore_patterns("*.fixed"))
    return root


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=clone_program())
def test_fix_properties_on_generated_clones(generated: Path, source: str) -> None:
    """Each generated clone is reported with an unsafe fix that keeps every other byte
    (the SARIF edit, applied, is what --fix writes), gives the AST of the fix made by hand,
    and leaves nothing to fix."""
    path = generated / "shop" / "generated.py"
    path.write_text(source, encoding="utf-8")
    findings = lint_paths([path], options=EDITS).findings
    assert [f.code for f in findings] == ["TSL004"], source
    (finding,) = findings
    assert finding.fix is not None and finding.fix.applicability is Applicability.UNSAFE
    result = fix_paths([path], unsafe=True, options=NO_CACHE)
    after = path.read_text(encoding="utf-8")
    assert result.fixed == 1 and not result.errors
    assert fixer.apply_edits(source, finding.fix.edits) == after
    assert _normal(ast.parse(after)) == _normal(_expected_tree(source, findings))
    assert lint_paths([path], options=NO_CACHE).findings == []
    assert fix_paths([path], unsafe=True, options=NO_CACHE).fixed == 0
