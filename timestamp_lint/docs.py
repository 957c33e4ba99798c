"""Rule documentation, rendered from each rule's `doc`: the one source for `timestamp-lint
rule`, SARIF help and the README's rule reference."""

from __future__ import annotations

from timestamp_lint.ftypes import PARSE_ERROR
from timestamp_lint.rules import RULES

PARSE_ERROR_DOC = """\
## What it does
Reports a file that could not be read, decoded or parsed: a syntax error, bytes that are not
valid in the file's encoding (PEP 263 cookies and UTF-8 BOMs are honoured), NUL bytes,
syntax nested too deeply to analyse safely, or valid Python that LibCST's parser cannot
handle (thousands of implicitly concatenated strings, say; the message says so).

## Why is this bad?
timestamp-lint cannot check a file it cannot parse, and `--fix` never rewrites such a file.
Only files whose bytes could hold a finding (they read a timestamp field and name one, or
declare one in a class body) are parsed, so this is reported only for those.
"""


def rule_doc(code: str) -> tuple[str, str, str]:
    """(name, summary, Markdown doc) of a rule code."""
    if code == PARSE_ERROR:
        return "unreadable-file", "File could not be read or parsed", PARSE_ERROR_DOC
    rule = RULES[code].load()
    return rule.name, rule.summary, rule.doc


def all_codes() -> list[str]:
    return [*sorted(RULES), PARSE_ERROR]


def rule_text(code: str) -> str:
    """What `timestamp-lint rule CODE` prints."""
    name, summary, doc = rule_doc(code)
    return f"# {code} ({name})\n\n{summary}.\n\n{doc}"


def reference_markdown() -> str:
    """The README's rule reference."""
    parts = []
    for code in all_codes():
        name, summary, doc = rule_doc(code)
        doc = doc.replace("## ", "#### ")
        parts.append(f"### {code} `{name}`\n\n{summary}.\n\n{doc}")
    return "\n".join(parts)
