"""`path:line:col: CODE message`, one finding a line, like Ruff's concise output."""

from __future__ import annotations

from collections.abc import Sequence

from timestamp_lint.ftypes import Applicability, Finding
from timestamp_lint.report import ReportContext, display_path


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    return "".join(
        f"{display_path(f.path, context.cwd)}:{f.line}:{f.column}: {f.code} {f.message}\n"
        for f in findings
    )


def _count(number: int, noun: str = "finding", plural: str | None = None) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {plural or noun + 's'}"


def summary(result, *, fixing: bool = False, unsafe: bool = False) -> str:
    """The closing line of text output, with what `--fix` did or could do."""
    findings = result.findings
    if fixing:
        line = f"Fixed {_count(result.fixed)} ({len(findings)} remaining)."
        hidden = hidden_fixes(findings, unsafe)
        return f"{line}\n{hidden}" if hidden else line
    if not findings:
        return f"All checks passed ({_count(result.files_checked, 'file')} checked)."
    line = f"Found {_count(len(findings))}."
    safe = sum(1 for f in findings if f.fix and f.fix.applicability is Applicability.SAFE)
    risky = sum(1 for f in findings if f.fix and f.fix.applicability is Applicability.UNSAFE)
    if unsafe:  # `--unsafe-fixes` / `unsafe-fixes = true`: `--fix` applies them all
        safe, risky = safe + risky, 0
    if safe:
        line += f"\n{_count(safe, 'fix', 'fixes')} available with `--fix`."
    if risky:
        line += (
            f"\n{_count(risky, 'more fix', 'more fixes')} available with `--fix --unsafe-fixes`."
        )
    return line


def hidden_fixes(findings: Sequence[Finding], unsafe: bool) -> str:
    """After `--fix` or `--diff` without `--unsafe-fixes`, as Ruff says it: "2 hidden fixes
    can be enabled with the `--unsafe-fixes` option." (empty when there are none)."""
    if unsafe:
        return ""
    hidden = sum(1 for f in findings if f.fix and f.fix.applicability is Applicability.UNSAFE)
    if not hidden:
        return ""
    noun = _count(hidden, "hidden fix", "hidden fixes")
    return f"{noun} can be enabled with the `--unsafe-fixes` option."


def unresolved(result, context: ReportContext, *, listed: bool = False) -> str:
    """The creation sites no rule could check, as a count (and, `listed`, one a line)."""
    sites = result.unresolved
    if not sites:
        return ""
    lines = (
        [
            f"{display_path(f.path, context.cwd)}:{f.line}:{f.column}: not checked: {f.message}\n"
            for f in sites
        ]
        if listed
        else []
    )
    noun = _count(len(sites), "creation site")
    hint = "" if listed else "; see --show-unresolved"
    lines.append(
        f"{noun} with copied timestamps {'was' if len(sites) == 1 else 'were'} not checked: "
        f"their callee, or a base of its class, did not resolve{hint}\n"
    )
    return "".join(lines)
