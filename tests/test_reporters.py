"""Output formats: exact structure of every reporter, on findings built by hand."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from timestamp_lint.ftypes import Applicability, Edit, Finding, Fix
from timestamp_lint.report import REPORTERS, ReportContext, get_reporter
from timestamp_lint.report.json import finding_dict
from timestamp_lint.rules import RULES

SARIF_SCHEMA = (
    Path(__file__).resolve().parents[2] / "shared" / "schemas" / "sarif-schema-2.1.0.json"
)

SOURCE = """\
from app.models import Flow


def split(master):
    return Flow(created_at=master.created_at)
"""
FIX = Fix(
    Applicability.SAFE,
    "Remove `created_at=...`; the column default stamps the time",
    (Edit(5, 17, 5, 45, ""),),
)


def tsl001(path: Path, line: int = 5, message: str = "`master.created_at` copied") -> Finding:
    return Finding(
        path=path,
        line=line,
        column=17,
        end_line=line,
        end_column=45,
        code="TSL001",
        message=message,
        model="Flow",
        field="created_at",
        fix=FIX,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "split.py").write_text(SOURCE, encoding="utf-8")
    return tmp_path


@pytest.fixture
def context(project: Path) -> ReportContext:
    return ReportContext(root=project, cwd=project, version="1.2.3", files_checked=2)


def render(name: str, findings: list[Finding], context: ReportContext) -> str:
    return get_reporter(name)(findings, context)


def test_every_format_is_registered() -> None:
    expected = {"text", "concise", "json", "json-lines", "full", "sarif", "github", "gitlab"}
    assert set(REPORTERS) == expected | {"junit"}
    for name in REPORTERS:
        assert callable(get_reporter(name))


# full


def test_full_shows_source_marker_and_help(project: Path, context: ReportContext) -> None:
    out = render("full", [tsl001(project / "app" / "split.py")], context)
    assert out == (
        "app/split.py:5:17: TSL001 `master.created_at` copied\n"
        "  |\n"
        "5 |     return Flow(created_at=master.created_at)\n"
        "  |                 ^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        "  |\n"
        "  = help: Remove `created_at=...`; the column default stamps the time\n"
    )
    assert "\x1b" not in out


def test_full_separates_findings_and_spans_lines(project: Path, context: ReportContext) -> None:
    path = project / "app" / "split.py"
    multi = Finding(path, 4, 11, "TSL002", "spans", end_line=5, end_column=16)
    out = render("full", [multi, tsl001(path)], context)
    first, second = out.split("\n\n")
    assert first == (
        "app/split.py:4:11: TSL002 spans\n"
        "  |\n"
        "4 | def split(master):\n"
        "  |           ^^^^^^^^\n"
        "5 |     return Flow(created_at=master.created_at)\n"
        "  |     ^^^^^^^^^^^\n"
        "  |"
    )
    assert "help:" not in first
    assert second.startswith("app/split.py:5:17: TSL001")


def test_full_skips_snippet_of_unreadable_file(project: Path, context: ReportContext) -> None:
    gone = Finding(project / "gone.py", 1, 1, "TSL999", "Cannot read file", 1, 1)
    assert render("full", [gone], context) == "gone.py:1:1: TSL999 Cannot read file\n"
    assert render("full", [], context) == ""


def test_full_colours_only_when_asked(project: Path) -> None:
    finding = tsl001(project / "app" / "split.py")
    coloured = render("full", [finding], ReportContext(root=project, cwd=project, color=True))
    assert "\x1b[" in coloured
    assert "\x1b[1;31mTSL001\x1b[0m" in coloured
    plain = render("full", [finding], ReportContext(root=project, cwd=project))
    assert "\x1b" not in plain


# sarif


def sarif(findings: list[Finding], context: ReportContext) -> dict:
    return json.loads(render("sarif", findings, context))


def test_sarif_structure(project: Path, context: ReportContext) -> None:
    parse_error = Finding(project / "app" / "bad.py", 3, 7, "TSL999", "SyntaxError: x", 3, 7)
    log = sarif([tsl001(project / "app" / "split.py"), parse_error], context)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("timestamp-lint", "1.2.3")
    assert driver["informationUri"] == "https://github.com/timestamp-lint/timestamp-lint"
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": project.as_uri() + "/"}}

    rules = driver["rules"]
    assert [r["id"] for r in rules] == sorted([*RULES, "TSL999"])
    for rule in rules:
        assert rule["defaultConfiguration"] == {"level": "error"}
        assert rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"]
        if rule["id"] in RULES:
            cls = RULES[rule["id"]].load()
            assert rule["name"] == cls.name
            assert rule["shortDescription"]["text"] == cls.summary
            assert rule["help"]["markdown"] == cls.doc.strip()
            assert rule["help"]["text"]
    assert rules[-1]["shortDescription"]["text"] == "File could not be read or parsed"

    first, second = run["results"]
    assert rules[first["ruleIndex"]]["id"] == "TSL001"
    assert rules[second["ruleIndex"]]["id"] == "TSL999"
    assert first["ruleId"] == "TSL001"
    assert first["level"] == "error"
    assert first["message"] == {"text": "`master.created_at` copied"}
    (location,) = first["locations"]
    artifact = {"uri": "app/split.py", "uriBaseId": "%SRCROOT%"}
    region = {"startLine": 5, "startColumn": 17, "endLine": 5, "endColumn": 45}
    assert location == {"physicalLocation": {"artifactLocation": artifact, "region": region}}
    (fix,) = first["fixes"]
    assert fix["description"] == {"text": FIX.message}
    assert fix["artifactChanges"] == [
        {
            "artifactLocation": artifact,
            "replacements": [{"deletedRegion": region, "insertedContent": {"text": ""}}],
        }
    ]
    assert "fixes" not in second
    assert second["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/bad.py"


def test_sarif_is_deterministic_and_clean_run_is_empty(
    project: Path, context: ReportContext
) -> None:
    findings = [tsl001(project / "app" / "split.py")]
    assert render("sarif", findings, context) == render("sarif", findings, context)
    assert sarif([], context)["runs"][0]["results"] == []


def test_sarif_matches_official_schema(project: Path, context: ReportContext) -> None:
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"SARIF schema not found at {SARIF_SCHEMA}")
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    findings = [
        tsl001(project / "app" / "split.py"),
        Finding(project / "app" / "bad.py", 1, 1, "TSL999", "Cannot parse file", 1, 1),
        Finding(project.parent / "outside.py", 2, 1, "TSL002", "outside the root", 2, 5),
    ]
    log = sarif(findings, context)
    validator.validate(log)
    broken = json.loads(json.dumps(log))
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert not validator.is_valid(broken)


# github


def test_github_annotation(project: Path, context: ReportContext) -> None:
    out = render("github", [tsl001(project / "app" / "split.py")], context)
    assert out == (
        "::error file=app/split.py,line=5,col=17,endLine=5,endColumn=45,title=TSL001"
        "::`master.created_at` copied\n"
    )


def test_github_escapes_data_and_properties(project: Path, context: ReportContext) -> None:
    odd = project / "a:b,c%d.py"
    finding = Finding(odd, 1, 2, "TSL002", "100%: a, b\r\nnext", 1, 3)
    assert render("github", [finding], context) == (
        "::error file=a%3Ab%2Cc%25d.py,line=1,col=2,endLine=1,endColumn=3,title=TSL002"
        "::100%25: a, b%0D%0Anext\n"
    )
    assert render("github", [], context) == ""


# gitlab


def gitlab(findings: list[Finding], context: ReportContext) -> list[dict]:
    return json.loads(render("gitlab", findings, context))


def test_gitlab_structure(project: Path) -> None:
    context = ReportContext(root=project, cwd=project / "app")
    error = Finding(project / "app" / "bad.py", 2, 1, "TSL999", "Cannot parse file", 2, 1)
    issue, parse_issue = gitlab([tsl001(project / "app" / "split.py"), error], context)
    fingerprint = issue.pop("fingerprint")
    assert len(fingerprint) == 64
    int(fingerprint, 16)
    assert issue == {
        "description": "TSL001 `master.created_at` copied",
        "check_name": "TSL001",
        "severity": "major",
        "location": {"path": "app/split.py", "lines": {"begin": 5, "end": 5}},
    }
    assert parse_issue["severity"] == "critical"
    assert parse_issue["location"]["path"] == "app/bad.py"


def test_gitlab_fingerprint_survives_line_shifts(project: Path, context: ReportContext) -> None:
    path = project / "app" / "split.py"
    before = gitlab([tsl001(path)], context)[0]["fingerprint"]
    path.write_text("\n" + SOURCE, encoding="utf-8")
    after = gitlab([tsl001(path, line=6)], context)[0]
    assert after["location"]["lines"]["begin"] == 6
    assert after["fingerprint"] == before


def test_gitlab_fingerprints_differ_between_findings(project: Path, context: ReportContext) -> None:
    path = project / "app" / "split.py"
    (path.parent / "copy.py").write_text(SOURCE, encoding="utf-8")
    findings = [
        tsl001(path),
        tsl001(path),  # an identical duplicate on the same line
        tsl001(path, message="another message"),
        tsl001(path, line=4),  # another source line
        tsl001(path.parent / "copy.py"),
    ]
    fingerprints = [issue["fingerprint"] for issue in gitlab(findings, context)]
    assert len(set(fingerprints)) == len(findings)
    assert fingerprints == [issue["fingerprint"] for issue in gitlab(findings, context)]


# junit


def test_junit_structure(project: Path, context: ReportContext) -> None:
    path = project / "app" / "split.py"
    error = Finding(project / "bad.py", 1, 1, "TSL999", 'Cannot parse <"&">', 1, 1)
    out = render("junit", [tsl001(path), tsl001(path, line=4), error], context)
    assert out.startswith("<?xml version=")
    suites = ET.fromstring(out)
    assert suites.tag == "testsuites"
    assert suites.attrib == {"name": "timestamp-lint", "tests": "3", "failures": "3"}
    split, bad = suites.findall("testsuite")
    assert split.attrib == {"name": "app/split.py", "tests": "2", "failures": "2"}
    assert bad.attrib == {"name": "bad.py", "tests": "1", "failures": "1"}
    first, second = split.findall("testcase")
    assert first.attrib == {"name": "TSL001 5:17", "classname": "app/split.py"}
    assert second.attrib["name"] == "TSL001 4:17"
    failure = first.find("failure")
    assert failure is not None
    assert failure.attrib == {"message": "`master.created_at` copied", "type": "TSL001"}
    assert failure.text == "app/split.py:5:17: TSL001 `master.created_at` copied"
    bad_failure = bad.find("testcase/failure")
    assert bad_failure is not None
    assert bad_failure.attrib["message"] == 'Cannot parse <"&">'


def test_junit_clean_run_has_one_passing_case(context: ReportContext) -> None:
    suites = ET.fromstring(render("junit", [], context))
    assert suites.attrib["failures"] == "0"
    (suite,) = suites.findall("testsuite")
    (case,) = suite.findall("testcase")
    assert suite.attrib["tests"] == "1"
    assert list(case) == []


# json-lines


def test_json_lines_one_object_per_line(project: Path, context: ReportContext) -> None:
    path = project / "app" / "split.py"
    findings = [tsl001(path), Finding(path, 1, 1, "TSL999", "multi\nline", 1, 1)]
    out = render("json-lines", findings, context)
    lines = out.splitlines()
    assert out.endswith("\n")
    assert len(lines) == 2
    assert [json.loads(line) for line in lines] == [finding_dict(f, project) for f in findings]
    assert json.loads(lines[0])["path"] == "app/split.py"
    assert render("json-lines", [], context) == ""
