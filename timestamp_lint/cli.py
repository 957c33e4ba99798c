"""The command line: wires options to `timestamp_lint.api` and prints with a reporter."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from timestamp_lint import __version__
from timestamp_lint.api import fix_paths, lint_paths, resolve_config
from timestamp_lint.config import CODE_RE
from timestamp_lint.ftypes import UserError
from timestamp_lint.report import FORMATS, ReportContext, get_reporter
from timestamp_lint.report.text import summary

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _codes(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    if value is None:
        return None
    codes = [c.strip().upper() for c in value.split(",") if c.strip()]
    for code in codes:
        if not CODE_RE.match(code):
            raise click.BadParameter(f"{code!r} is not a rule code or prefix like 'TSL001'")
    return codes


def fail(message: str) -> None:
    click.echo(f"timestamp-lint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--output-format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="How findings are printed.",
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
@click.option("--exit-zero", is_flag=True, help="Exit with 0 even when there are findings.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.version_option(__version__, "--version", prog_name="timestamp-lint")
def main(
    paths: tuple[Path, ...],
    output_format: str,
    config_file: Path | None,
    select: list[str] | None,
    ignore: list[str] | None,
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
    exit_zero: bool,
    quiet: bool,
) -> None:
    """Find ORM records created with another record's timestamps.

    PATHS are files or folders (default: the current folder).
    Exit status: 0 no findings, 1 findings, 2 usage, configuration or internal error.
    """
    targets = list(paths) or [Path(".")]
    try:
        config = resolve_config(targets, config_file, select, ignore)
        if fix or diff:
            result = fix_paths(targets, config=config, unsafe=unsafe_fixes, diff=diff)
        else:
            result = lint_paths(targets, config=config)
    except UserError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug of ours: one line, never a traceback
        fail(f"internal error: {type(exc).__name__}: {exc} (please report this)")
    for error in result.errors:
        click.echo(f"timestamp-lint: warning: {error}", err=True)
    if diff:
        sys.stdout.write("".join(result.diffs))
        if not quiet:
            noun = "finding" if result.fixed == 1 else "findings"
            click.echo(f"Would fix {result.fixed} {noun}.", err=True)
        sys.exit(EXIT_FINDINGS if result.diffs and not exit_zero else EXIT_CLEAN)
    context = ReportContext(root=config.root, files_checked=result.files_checked)
    out = get_reporter(output_format)(result.findings, context)
    sys.stdout.write(out)
    if output_format in ("text", "concise", "full") and not quiet:
        click.echo(summary(result, fixing=fix, unsafe=unsafe_fixes))
    if (result.findings or result.errors) and not exit_zero:
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_CLEAN)
