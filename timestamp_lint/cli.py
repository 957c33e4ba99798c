"""The command line: wires options to `timestamp_lint.api` and prints with a reporter.

`timestamp-lint [OPTIONS] [PATHS]...` checks (and with --fix, fixes) files;
`timestamp-lint rule CODE` / `timestamp-lint rule --all` prints rule documentation.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import sys
from collections import Counter
from pathlib import Path

import click

from timestamp_lint import __version__
from timestamp_lint.api import Options, resolve_config, run
from timestamp_lint.config import CODE_RE
from timestamp_lint.docs import all_codes, rule_doc, rule_text
from timestamp_lint.ftypes import Finding, UserError
from timestamp_lint.report import FORMATS, ReportContext, get_reporter, text
from timestamp_lint.report.text import summary
from timestamp_lint.since import changed_lines

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
TEXT_FORMATS = ("text", "concise", "full")


def _codes(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    if value is None:
        return None
    codes = [c.strip().upper() for c in value.split(",") if c.strip()]
    for code in codes:
        if not CODE_RE.fullmatch(code):
            raise click.BadParameter(f"{code!r} is not a rule code or prefix like 'TSL001'")
    return codes


def fail(message: str) -> None:
    click.echo(f"timestamp-lint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def use_color() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def statistics_report(findings: list[Finding], as_json: bool) -> str:
    """Counts per code, with how many of them `--fix` (or `--unsafe-fixes`) can repair."""
    counts = Counter(f.code for f in findings)
    fixable = Counter(f.code for f in findings if f.fix is not None)
    rows = [
        {"code": code, "name": rule_doc(code)[0], "count": counts[code], "fixable": fixable[code]}
        for code in sorted(counts)
    ]
    if as_json:
        return json.dumps(rows, indent=2) + "\n"
    return "".join(
        f"{row['count']:>5}  {row['code']}  {row['name']}  ({row['fixable']} fixable)\n"
        for row in rows
    )


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--output-format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="How findings are printed (text is the same as concise).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=True),
    help="Use this configuration file instead of searching for one.",
)
@click.option("--select", callback=_codes, help="Comma-separated codes or prefixes to report.")
@click.option("--ignore", callback=_codes, help="Comma-separated codes or prefixes to skip.")
@click.option("--fix", is_flag=True, help="Apply safe fixes, then report what remains.")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff, apply unsafe fixes too.")
@click.option(
    "--diff",
    is_flag=True,
    help="Print the diff --fix would apply, write nothing (exit 1 if there is any).",
)
@click.option(
    "--since",
    metavar="REV",
    help="Report only findings on lines changed since git revision REV (and untracked files).",
)
@click.option(
    "--stdin-filename",
    metavar="NAME",
    help="With '-' as the path: lint source read from stdin as if it lived at NAME.",
)
@click.option("--statistics", is_flag=True, help="Print counts per rule instead of findings.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    help="Worker processes for the analysis (default: one per CPU; 1: no workers).",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Cache folder (default: .timestamp_lint_cache in the project root).",
)
@click.option("--exit-zero", is_flag=True, help="Exit with 0 even when there are findings.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option(
    "--show-unresolved",
    is_flag=True,
    help="List the creation sites not checked because their callee did not resolve.",
)
@click.version_option(__version__, "--version", prog_name="timestamp-lint")
def check(
    paths: tuple[Path, ...],
    output_format: str,
    config_file: Path | None,
    select: list[str] | None,
    ignore: list[str] | None,
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
    since: str | None,
    stdin_filename: str | None,
    statistics: bool,
    jobs: int | None,
    no_cache: bool,
    cache_dir: Path | None,
    exit_zero: bool,
    quiet: bool,
    show_unresolved: bool,
) -> None:
    """Find ORM records created with another record's timestamps.

    PATHS are files or folders (default: the current folder). `timestamp-lint rule CODE`
    explains a rule. Exit status: 0 no findings, 1 findings, 2 usage, configuration or
    internal error.
    """
    targets = list(paths) or [Path(".")]
    stdin: bytes | None = None
    if stdin_filename is not None:
        if targets != [Path("-")]:
            fail("--stdin-filename needs '-' as the only path")
        targets = [Path(stdin_filename)]
        stdin = sys.stdin.buffer.read()
    elif Path("-") in targets:
        fail("reading from stdin ('-') needs --stdin-filename NAME")
    try:
        config = resolve_config(targets, config_file, select, ignore)
        changed = changed_lines(config.root, since) if since is not None else None
        options = Options(
            fix=fix or diff,
            unsafe=unsafe_fixes,
            diff=diff,
            stdin=stdin,
            jobs=jobs,
            cache=not no_cache,
            cache_dir=cache_dir.resolve() if cache_dir is not None else None,
            edits=output_format == "sarif" and not statistics,
        )
        result = run(targets, config, options, changed)
    except UserError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug of ours: one line, never a traceback
        fail(f"internal error: {type(exc).__name__}: {exc} (please report this)")
    for error in result.errors:
        click.echo(f"timestamp-lint: warning: {error}", err=True)
    failed = bool(result.findings or result.errors) and not exit_zero

    if stdin is not None and fix and not diff:  # like an editor's formatter: code out
        sys.stdout.buffer.write(next(iter(result.outputs.values()), stdin))
        sys.exit(EXIT_FINDINGS if failed else EXIT_CLEAN)
    if diff:
        sys.stdout.write("".join(result.diffs))
        if not quiet:
            noun = "finding" if result.fixed == 1 else "findings"
            click.echo(f"Would fix {result.fixed} {noun}.", err=True)
        sys.exit(EXIT_FINDINGS if result.diffs and not exit_zero else EXIT_CLEAN)
    if statistics:
        sys.stdout.write(statistics_report(result.findings, output_format == "json"))
    else:
        context = ReportContext(
            root=config.root, files_checked=result.files_checked, color=use_color()
        )
        sys.stdout.write(get_reporter(output_format)(result.findings, context))
        if output_format in TEXT_FORMATS and not quiet:
            click.echo(summary(result, fixing=fix, unsafe=unsafe_fixes))
            sys.stdout.write(text.unresolved(result, context, listed=show_unresolved))
    sys.exit(EXIT_FINDINGS if failed else EXIT_CLEAN)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="List every rule.")
def rule(code: str | None, show_all: bool) -> None:
    """Explain a rule: what it does, why it matters, an example, and fix safety."""
    if show_all or code is None:
        for each in all_codes():
            name, summary_text, _ = rule_doc(each)
            click.echo(f"{each}  {name}  {summary_text}")
        if code is None and not show_all:
            click.echo("\nUse `timestamp-lint rule CODE` for a rule's documentation.")
        return
    code = code.upper()
    if code not in all_codes():
        fail(f"unknown rule {code!r}; `timestamp-lint rule --all` lists the rules")
    click.echo(rule_text(code), nl=False)


GC_THRESHOLD = 100_000

# Subcommands by name: "module:attribute" of a click command, imported only when used, so
# that a plain check never pays for a subcommand's imports.
SUBCOMMANDS = {
    "rule": "timestamp_lint.cli:rule",
    "explain": "timestamp_lint.explain:explain",
}


def _subcommand(name: str) -> click.Command:
    module, _, attribute = SUBCOMMANDS[name].partition(":")
    return getattr(importlib.import_module(module), attribute)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `timestamp-lint` script and `python -m timestamp_lint`."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in SUBCOMMANDS:
        name = f"timestamp-lint {args[0]}"
        command, args = _subcommand(args[0]), args[1:]
    else:
        name, command = "timestamp-lint", check
    if argv is not None:  # called from Python: return or raise as click does
        command.main(args, prog_name=name)
        return
    # The process is ours. A run allocates millions of short-lived syntax nodes with no
    # reference cycles: the default thresholds would run the cyclic collector over them
    # thousands of times (a fifth of the run). Collections stay on, just rarer.
    gc.set_threshold(GC_THRESHOLD, 50, 100)
    try:
        command.main(args, prog_name=name)
        status = 0
    except SystemExit as exit:
        status = exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 1
        if isinstance(exit.code, str):
            print(exit.code, file=sys.stderr)
    # The run is over and its output written: leave without tearing down every object the
    # run created, one by one (a tenth of a second on a large project; mypy does the same).
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(status)
