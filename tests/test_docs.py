"""The README's rule reference is generated from the rules' own docs (one source)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from timestamp_lint.docs import all_codes, reference_markdown, rule_text
from timestamp_lint.rules import RULES

from .conftest import REPO, modules_loaded_by_a_plain_run

BLOCK = re.compile(r"(<!-- rules:start -->\n)(.*?)(<!-- rules:end -->)", re.S)


def test_readme_rule_reference_is_current() -> None:
    readme = REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    expected = reference_markdown()
    if os.environ.get("TSL_UPDATE_SNAPSHOTS"):
        text = BLOCK.sub(lambda m: m.group(1) + expected + m.group(3), text)
        readme.write_text(text, encoding="utf-8")
    match = BLOCK.search(text)
    assert match is not None
    assert match.group(2) == expected


def test_every_rule_doc_has_the_ruff_sections() -> None:
    for code, entry in RULES.items():
        rule = entry.load()
        for heading in ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety"):
            assert f"## {heading}\n" in rule.doc, (code, heading)
    assert all_codes()[-1] == "TSL999"
    assert rule_text("TSL001").startswith("# TSL001 (copied-timestamp-in-new-record)")


def _blocks(language: str) -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_readme_yaml_snippets_parse_and_name_real_hooks() -> None:
    yaml = __import__("yaml")  # PyYAML comes with pre-commit (a dev dependency)
    hooks = {hook["id"] for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert hooks == {"timestamp-lint", "timestamp-lint-fix"}
    snippets = [yaml.safe_load(block) for block in _blocks("yaml")]
    assert len(snippets) >= 3
    pre_commit = next(s for s in snippets if "repos" in s)
    ids = {hook["id"] for repo in pre_commit["repos"] for hook in repo["hooks"]}
    assert ids <= hooks


def test_readme_options_exist() -> None:
    from click.testing import CliRunner

    from timestamp_lint.cli import check

    help_text = CliRunner().invoke(check, ["--help"]).output
    usage = (REPO / "README.md").read_text(encoding="utf-8").split("## Usage")[1]
    usage = usage.split("### Exit codes")[0]
    for option in set(re.findall(r"(--[a-z][a-z-]+)", usage)) - {"--all"}:  # `rule --all`
        assert option in help_text, option
    readme = (REPO / "README.md").read_text()
    audit = re.compile(r"\n## Auditing a database\n.*?(?=\n## )", re.S)  # its own options
    for name in re.findall(r"--output-format ([a-z-]+)", audit.sub("", readme)):
        assert name in help_text, name


def test_readme_demo_output_is_what_the_tool_prints() -> None:
    from .conftest import run_cli

    text = (REPO / "README.md").read_text(encoding="utf-8")
    shown = text.split("$ timestamp-lint fixtures/demo\n", 1)[1].split("```", 1)[0]
    assert run_cli("--no-cache", "fixtures/demo", cwd=REPO).stdout == shown


def test_the_registry_names_each_rule_class_by_its_code() -> None:
    for code, entry in RULES.items():
        assert entry.load().code == code


def test_a_run_that_analyses_nothing_never_imports_libcst(tmp_path: Path) -> None:
    """LibCST costs more to import than a warm run takes: only a file that reaches the
    LibCST stage loads it."""
    loaded = modules_loaded_by_a_plain_run(tmp_path)
    assert "timestamp_lint.cli" in loaded
    assert sorted(m for m in loaded if m.split(".")[0] == "libcst") == []
