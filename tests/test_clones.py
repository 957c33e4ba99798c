"""TSL004, new records cloned from another with its timestamps: what is reported, what is
not, and that every output format carries the code. The fixture projects
`fixtures/clones_*` hold every shape with its `# expect:` marker."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from timestamp_lint.api import Options, lint_paths
from timestamp_lint.report import ReportContext, get_reporter

from .conftest import FIXTURES, run_cli

NO_CACHE = Options(cache=False)
SARIF_SCHEMA = (
    Path(__file__).resolve().parents[2] / "shared" / "schemas" / "sarif-schema-2.1.0.json"
)

MODELS = """
from datetime import datetime

from sqlalchemy import Column, DateTime, Integer, String, func
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Project(Base):
    __tablename__ = "projects"
    id = Column(Integer, primary_key=True)
    name = Column(String)
    created_at = Column(DateTime, server_default=func.now())
    updated_at = Column(DateTime, default=datetime.utcnow, onupdate=datetime.utcnow)

    def as_dict(self):
        return {c.name: getattr(self, c.name) for c in self.__table__.columns}

    def label_dict(self):
        return {"name": self.name}


class Plain(Base):
    __tablename__ = "plain"
    id = Column(Integer, primary_key=True)
"""


def _lint(project, code: str) -> list[tuple[int, str]]:
    root = project({"app/__init__.py": "", "app/models.py": MODELS, "app/work.py": code})
    result = lint_paths([root], options=NO_CACHE)
    return [(f.line, f.code) for f in result.findings]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("def f(p: Project):\n    return Project(**vars(p))\n", [(5, "TSL004")]),
        ("def f(p: Project):\n    return Project(**p.as_dict())\n", [(5, "TSL004")]),
        ("def f(p):\n    return Project(**p.as_dict())\n", [(5, "TSL004")]),
        ("def f(p):\n    return Project(**p.label_dict())\n", []),
        ("def f(p):\n    return Plain(**vars(p))\n", []),  # no timestamp columns
        (
            "def f(p):\n    d = vars(p).copy()\n    d.pop('created_at')\n"
            "    del d['updated_at']\n    return Project(**d)\n",
            [],
        ),
        (
            "def f(p):\n    d = dict(p.__dict__)\n    d.pop('created_at')\n"
            "    return Project(**d)\n",
            [(7, "TSL004")],  # updated_at is still there
        ),
        (
            "def f(p):\n    d = dict(p.__dict__)\n    d.update(created_at=None, updated_at=None)\n"
            "    return Project(**d)\n",
            [],
        ),
        (
            "def f(p):\n    return Project(**{k: v for k, v in vars(p).items() if k != 'id'})\n",
            [],  # an unknown filter may be the one that drops them
        ),
        ("def f(p):\n    return Project(**vars(p), created_at=None, updated_at=None)\n", []),
        ("def f(p):\n    return Project.objects.create(**vars(p))\n", [(5, "TSL004")]),
        ("def f(p):\n    return dict(**vars(p))\n", []),  # not a model
        ("def f(p, vars):\n    return Project(**vars(p))\n", []),  # not the builtin
    ],
)
def test_clone_shapes(project, code: str, expected: list[tuple[int, str]]) -> None:
    assert _lint(project, "from app.models import Plain, Project\n\n\n" + code) == expected


def test_message_names_the_model_the_fields_and_the_advice(project) -> None:
    code = (
        "from app.models import Project\n\n\n"
        "def f(p: Project):\n    data = p.as_dict()\n    return Project(**data)\n"
    )
    root = project({"app/__init__.py": "", "app/models.py": MODELS, "app/work.py": code})
    (finding,) = lint_paths([root], options=NO_CACHE).findings
    assert finding.message == (
        "Project(**data) clones another Project record (p.as_dict()) with its 'created_at' "
        "and 'updated_at' timestamps; drop them first (data.pop('created_at', None), "
        "data.pop('updated_at', None)) so the column defaults stamp the current time"
    )
    assert (finding.model, finding.field) == ("app.models.Project", "created_at")
    assert finding.fix is not None and finding.fix.applicability.value == "unsafe"
    assert (finding.line, finding.column, finding.end_column) == (6, 20, 26)


def test_allowlisted_files_are_not_checked(project) -> None:
    code = "from app.models import Project\n\n\ndef f(p):\n    return Project(**vars(p))\n"
    root = project({"app/__init__.py": "", "app/models.py": MODELS, "tests/test_work.py": code})
    assert lint_paths([root], options=NO_CACHE).findings == []


def test_rule_documentation() -> None:
    result = run_cli("rule", "TSL004", cwd=FIXTURES)
    assert result.returncode == 0
    for heading in ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety"):
        assert f"## {heading}" in result.stdout
    assert result.stdout.startswith("# TSL004 (new-record-cloned-with-timestamps)")


@pytest.fixture(scope="module")
def clone_findings(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("clones") / "clones_sqlalchemy"
    shutil.copytree(FIXTURES / "clones_sqlalchemy", root)
    findings = [f for f in lint_paths([root], options=NO_CACHE).findings if f.code == "TSL004"]
    assert findings
    return root, findings


def test_sarif_carries_the_rule(clone_findings) -> None:
    root, findings = clone_findings
    context = ReportContext(root=root, cwd=root)
    log = json.loads(get_reporter("sarif")(findings, context))
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    (rule,) = [r for r in rules if r["id"] == "TSL004"]
    assert rule["name"] == "new-record-cloned-with-timestamps"
    assert "make_transient" in rule["help"]["markdown"]
    index = rules.index(rule)
    assert {(r["ruleId"], r["ruleIndex"]) for r in run["results"]} == {("TSL004", index)}
    if SARIF_SCHEMA.is_file():
        jsonschema = pytest.importorskip("jsonschema")
        schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
        jsonschema.validators.validator_for(schema)(schema).validate(log)


def test_gitlab_and_junit_carry_the_code(clone_findings) -> None:
    root, findings = clone_findings
    context = ReportContext(root=root, cwd=root)
    issues = json.loads(get_reporter("gitlab")(findings, context))
    assert {i["check_name"] for i in issues} == {"TSL004"}
    assert len({i["fingerprint"] for i in issues}) == len(findings)
    suites = ET.fromstring(get_reporter("junit")(findings, context))
    types = {f.attrib["type"] for f in suites.iter("failure")}
    assert types == {"TSL004"}
    assert suites.attrib["failures"] == str(len(findings))


def test_select_and_noqa(tmp_path: Path) -> None:
    root = tmp_path / "clones_sqlalchemy"
    shutil.copytree(FIXTURES / "clones_sqlalchemy", root)
    only = run_cli("--no-cache", "--select", "TSL004", "--output-format", "json", ".", cwd=root)
    codes = {f["code"] for f in json.loads(only.stdout)}
    assert codes == {"TSL004"}
    ignored = run_cli("--no-cache", "--ignore", "TSL004", "--output-format", "json", ".", cwd=root)
    assert "TSL004" not in {f["code"] for f in json.loads(ignored.stdout)}
    path = root / "catalog" / "services" / "clones.py"
    text = path.read_text().replace(
        "return Task(**src.__dict__)  # expect: TSL004",
        "return Task(**src.__dict__)  # noqa: TSL004",
    )
    path.write_text(text)
    after = run_cli("--no-cache", "--select", "TSL004", "--output-format", "json", ".", cwd=root)
    assert len(json.loads(after.stdout)) == len(json.loads(only.stdout)) - 1


@pytest.mark.parametrize(
    ("body", "worth"),
    [
        # a copy or a key set to None reaches LibCST only when the record is then stored
        # (handed to a call that stores nothing: the bytes cannot tell, the first pass can)
        ("snapshot = copy.deepcopy(state)\nseen.add(1)\nsend(snapshot)\n", False),
        ("new = copy.copy(old)\nsession.add(new)\n", True),
        ("new = copy.copy(old)\nnew.save()\n", True),
        ("obj.id = None\nold.save()\nreturn obj\n", False),
        ("obj.pk = None\nobj.save()\n", True),
    ],
)
def test_the_first_pass_lets_through_only_stored_copies(
    tmp_path: Path, body: str, worth: bool
) -> None:
    import ast

    from timestamp_lint.api import make_engine
    from timestamp_lint.config import load_config

    source = "import copy\n\n\ndef f(session, state, old, obj, seen):\n" + "".join(
        f"    {line}\n" for line in body.splitlines()
    )
    (tmp_path / "pyproject.toml").write_text("[tool.timestamp-lint]\n")
    path = tmp_path / "mod.py"
    path.write_text(source)
    engine = make_engine(load_config(tmp_path))
    data = source.encode()
    summary = engine.index.summary(path, data)
    assert engine.needs_analysis(data, path)  # the byte scan sees the words
    assert engine.prescreen.worth_analysing(data, ast.parse(source), summary, {"TSL004"}) is worth
