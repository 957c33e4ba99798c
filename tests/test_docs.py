"""The README's rule reference is generated from the rules' own docs (one source)."""

from __future__ import annotations

import os
import re

from timestamp_lint.docs import all_codes, reference_markdown, rule_text
from timestamp_lint.rules import RULES

from .conftest import REPO

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
    for code, rule in RULES.items():
        for heading in ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety"):
            assert f"## {heading}\n" in rule.doc, (code, heading)
    assert all_codes()[-1] == "TSL999"
    assert rule_text("TSL001").startswith("# TSL001 (copied-timestamp-in-new-record)")
