"""The command line: wires options to `timestamp_lint.api` and prints with a reporter.

`timestamp-lint [OPTIONS] [PATHS]...` checks (and with --fix, fixes) files;
`timestamp-lint rule CODE` / `timestamp-lint rule --all` prints rule documentation.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import importlib
import json
import os
import signal
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from timestamp_lint import __version__
from timestamp_lint.api import (
    Options,
    Project,
    files_to_lint,
    plan_projects,
    run_projects,
    stdin_excluded,
)
from timestamp_lint.config import Overrides, Selection, git_root, parse_override, parse_selectors
from timestamp_lint.docs import all_codes, rule_doc, rule_text
from timestamp_lint.ftypes import Applicability, Config, Finding, UserError
from timestamp_lint.report import FORMATS, ReportContext, get_reporter
from timestamp_lint.report.text import hidden_fixes, summary
from timestamp_lint.report.text import unresolved as unresolved_report

if TYPE_CHECKING:
    from timestamp_lint.since import ChangedLines

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
TEXT_FORMATS = ("text", "concise", "full")
NO_FILES = "No Python files found under the given path(s)"  # Ruff's words


class OneLineUsage(click.Command):
    """Usage errors in one line, `timestamp-lint: error: ...` with exit 2 (click's own take
    four lines: usage, hint, blank, error)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            message = exc.format_message().replace("\n", " ")
            raise UsageLine(message[:1].lower() + message[1:]) from None


class UsageLine(click.ClickException):
    exit_code = EXIT_ERROR

    def show(self, file=None) -> None:
        click.echo(f"timestamp-lint: error: {self.message}", err=True)


def fail(message: str) -> None:
    click.echo(f"timestamp-lint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def interrupted() -> None:
    """Ctrl-C: one line and exit 130 (worker processes have been stopped by then)."""
    with contextlib.suppress(OSError, ValueError):
        click.echo("timestamp-lint: interrupted", err=True)
    sys.exit(EXIT_INTERRUPTED)


class Interrupted(BaseException):
    """SIGINT, when the process is the command's own: not a KeyboardInterrupt, so that
    neither click nor a library turns it into anything else on its way to `main`."""


def _raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted


def _output_failed(exc: OSError) -> int:
    """stdout cannot take the output (a closed pipe, a full disk): one line, exit 2, even
    with --exit-zero: the output the caller asked for is incomplete."""
    with contextlib.suppress(OSError, ValueError):
        print(
            f"timestamp-lint: error: cannot write the output: {exc.strerror or exc}",
            file=sys.stderr,
            flush=True,
        )
    return EXIT_ERROR


def os_error(exc: OSError) -> str:
    """One line for an operating-system error: the path (relative to the current folder
    when under it) and the cause."""
    cause = exc.strerror or str(exc)
    if not exc.filename:
        return cause
    name = os.fsdecode(exc.filename)
    with contextlib.suppress(ValueError):
        relative = os.path.relpath(name)
        if not relative.startswith(os.pardir):
            name = relative
    return f"{name}: {cause}"


def use_color() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def statistics_report(findings: list[Finding], as_json: bool, unsafe: bool = False) -> str:
    """Counts per code, with how many of them `--fix` can repair (unsafe fixes count only
    with `--unsafe-fixes`, as in Ruff)."""
    allowed = {Applicability.SAFE, Applicability.UNSAFE} if unsafe else {Applicability.SAFE}
    counts = Counter(f.code for f in findings)
    fixable = Counter(f.code for f in findings if f.fix and f.fix.applicability in allowed)
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


def _overrides(
    config_args: tuple[str, ...],
    select: str | None,
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_ignore: tuple[str, ...],
    respect_gitignore: bool | None,
    force_exclude: bool | None,
) -> Overrides:
    """The command line's part of the configuration. `--config` takes a file or, as in Ruff,
    a `KEY = VALUE` setting in TOML syntax; one file at most."""
    files = [Path(arg) for arg in config_args if Path(arg).exists()]
    settings = tuple(arg for arg in config_args if not Path(arg).exists())
    if len(files) > 1:
        raise UserError("--config: only one configuration file can be given")
    for text in settings:
        if "=" not in text:
            raise UserError(f"{text}: configuration file does not exist")
        parse_override(text)  # reported here, before any file is read
    selection = Selection(
        select=None if select is None else parse_selectors(select, "--select"),
        extend_select=tuple(
            code for value in extend_select for code in parse_selectors(value, "--extend-select")
        ),
        ignore=tuple(
            code
            for option, values in (("--ignore", ignore), ("--extend-ignore", extend_ignore))
            for value in values
            for code in parse_selectors(value, option)
        ),
    )
    return Overrides(
        config_file=files[0] if files else None,
        settings=settings,
        selection=selection,
        respect_gitignore=respect_gitignore,
        force_exclude=force_exclude,
    )


def report_root(cwd: Path) -> Path:
    """Where GitLab's paths start: the repository root (git's top level) when the current
    folder is in a work tree, else the current folder."""
    return git_root(cwd.resolve()) or cwd


def shown_path(path: Path) -> str:
    """An absolute path for printing; bytes that are not UTF-8 shown escaped."""
    text = os.path.abspath(path)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def settings_report(projects: list[Project]) -> str:
    """`--show-settings`: each project's resolved configuration, one `key = value` a line."""
    out = []
    for project in projects:
        config = project.config
        out.append(f"Resolved settings for: {config.root}")
        out.append(f"Settings path: {config.config_file or '(none: defaults)'}")
        for key, value in asdict(config).items():
            if key in ("root", "config_file"):
                continue
            if isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else str(v) for v in value]
            out.append(f"{key.replace('_', '-')} = {json.dumps(value)}")
        out.append("")
    return "\n".join(out)


@click.command(cls=OneLineUsage, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--output-format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="How findings are printed (text is the same as concise).",
)
@click.option(
    "-o",
    "--output-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the findings to this file instead of standard output.",
)
@click.option(
    "--config",
    "config_args",
    multiple=True,
    metavar="FILE | KEY=VALUE",
    help="A configuration file used for every linted file instead of the nearest one, or "
    "one setting in TOML syntax (`--config \"extend-fields = ['closed_at']\"`), "
    "applied over each file's configuration. Repeatable.",
)
@click.option("--select", help="Comma-separated codes or prefixes to report (replaces `select`).")
@click.option(
    "--extend-select", multiple=True, help="Codes or prefixes to report besides `select`."
)
@click.option("--ignore", multiple=True, help="Comma-separated codes or prefixes to skip.")
@click.option("--extend-ignore", multiple=True, help="Like --ignore (kept for Ruff users).")
@click.option("--fix", is_flag=True, help="Apply safe fixes, then report what remains.")
@click.option(
    "--unsafe-fixes/--no-unsafe-fixes",
    default=None,
    help="With --fix or --diff, apply unsafe fixes too (default: the `unsafe-fixes` setting).",
)
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
    "--respect-gitignore/--no-respect-gitignore",
    default=None,
    help="Skip files that git ignores while walking folders (default: on).",
)
@click.option(
    "--force-exclude/--no-force-exclude",
    default=None,
    help="Apply `exclude` to paths named on the command line and to --stdin-filename too.",
)
@click.option("--show-settings", is_flag=True, help="Print the resolved settings and exit.")
@click.option("--show-files", is_flag=True, help="Print the files that would be linted and exit.")
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
    help="List the creation sites not checked because their callee (or a base of its "
    "class) did not resolve.",
)
@click.version_option(__version__, "--version", prog_name="timestamp-lint")
def check(
    paths: tuple[Path, ...],
    output_format: str,
    output_file: Path | None,
    config_args: tuple[str, ...],
    select: str | None,
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_ignore: tuple[str, ...],
    fix: bool,
    unsafe_fixes: bool | None,
    diff: bool,
    since: str | None,
    stdin_filename: str | None,
    statistics: bool,
    respect_gitignore: bool | None,
    force_exclude: bool | None,
    show_settings: bool,
    show_files: bool,
    jobs: int | None,
    no_cache: bool,
    cache_dir: Path | None,
    exit_zero: bool,
    quiet: bool,
    show_unresolved: bool,
) -> None:
    """Find ORM records created with another record's timestamps.

    PATHS are files or folders (default: the current folder). Each file is judged with the
    nearest configuration above it. `timestamp-lint rule CODE` explains a rule. Exit status:
    0 no findings, 1 findings, 2 usage, configuration or internal error.
    """
    targets = list(paths) or [Path(".")]
    stdin: bytes | None = None
    unsafe_given = unsafe_fixes  # the flag; None: each project's `unsafe-fixes` decides
    if stdin_filename is not None:
        if targets != [Path("-")]:
            fail("--stdin-filename needs '-' as the only path")
        targets = [Path(stdin_filename)]
    elif Path("-") in targets:
        fail("reading from stdin ('-') needs --stdin-filename NAME")
    try:
        overrides = _overrides(
            config_args,
            select,
            extend_select,
            ignore,
            extend_ignore,
            respect_gitignore,
            force_exclude,
        )
        projects = plan_projects(targets, overrides)
        if unsafe_fixes is None:  # what the summary says: as the projects' `unsafe-fixes`
            unsafe_fixes = bool(projects) and all(p.config.unsafe_fixes for p in projects)
        if show_settings:
            sys.stdout.write(settings_report(projects))
            sys.exit(EXIT_CLEAN)
        if stdin_filename is not None:
            stdin = sys.stdin.buffer.read()
            if stdin_excluded(projects[0].config, targets[0]):  # --force-exclude: as Ruff does
                if fix and not diff:
                    sys.stdout.buffer.write(stdin)
                sys.exit(EXIT_CLEAN)
        if show_files:
            for file in files_to_lint(projects):
                click.echo(shown_path(file))  # absolute, as Ruff prints them
            sys.exit(EXIT_CLEAN)
        changes: dict[Path, ChangedLines] = {}

        def changed(config: Config) -> ChangedLines:
            if config.root not in changes:
                from timestamp_lint.since import changed_lines

                changes[config.root] = changed_lines(config.root, since)
            return changes[config.root]

        options = Options(
            fix=fix or diff,
            unsafe=None if unsafe_given is None else unsafe_fixes,
            diff=diff,
            stdin=stdin,
            jobs=jobs,
            cache=not no_cache,
            cache_dir=cache_dir.resolve() if cache_dir is not None else None,
            edits=output_format == "sarif" and not statistics,
        )
        result = run_projects(projects, options, changed if since is not None else None)
    except UserError as exc:
        fail(str(exc))
    except OSError as exc:  # a path that cannot be reached (a folder above it not listable)
        fail(os_error(exc))
    except KeyboardInterrupt:
        interrupted()
    except Exception as exc:  # a bug of ours: one line, never a traceback
        fail(f"internal error: {type(exc).__name__}: {exc} (please report this)")
    for error in result.errors:
        click.echo(f"timestamp-lint: warning: {error}", err=True)
    if not result.files_checked and stdin is None and since is None:
        click.echo(f"timestamp-lint: warning: {NO_FILES}", err=True)
    failed = bool(result.findings or result.errors) and not exit_zero

    if stdin is not None and fix and not diff:  # like an editor's formatter: code out
        sys.stdout.buffer.write(next(iter(result.outputs.values()), stdin))
        sys.exit(EXIT_FINDINGS if failed else EXIT_CLEAN)
    if diff:
        sys.stdout.write("".join(result.diffs))
        if not quiet:
            noun = "finding" if result.fixed == 1 else "findings"
            click.echo(f"Would fix {result.fixed} {noun}.", err=True)
            if hidden := hidden_fixes(result.findings, unsafe_fixes):
                click.echo(hidden, err=True)
        sys.exit(EXIT_FINDINGS if result.diffs and not exit_zero else EXIT_CLEAN)
    if statistics:
        text = statistics_report(result.findings, output_format == "json", unsafe_fixes)
    else:
        cwd = Path.cwd()
        context = ReportContext(
            root=report_root(cwd), cwd=cwd, files_checked=result.files_checked, color=use_color()
        )
        if output_file is not None:
            context = context._replace(color=False)
        text = get_reporter(output_format)(result.findings, context)
        if output_format in TEXT_FORMATS and not quiet:
            # "available with `--fix`" counts unsafe fixes when the configuration enables them
            shown = unsafe_fixes if fix else unsafe_fixes and unsafe_given is None
            text += summary(result, fixing=fix, unsafe=shown) + "\n"
            text += unresolved_report(result, context, listed=show_unresolved)
    if output_file is not None:
        try:
            output_file.write_text(text, encoding="utf-8", errors="surrogateescape")
        except OSError as exc:
            fail(f"{output_file}: cannot write: {exc.strerror or exc}")
    else:
        sys.stdout.write(text)
    sys.exit(EXIT_FINDINGS if failed else EXIT_CLEAN)


@click.command(cls=OneLineUsage, context_settings={"help_option_names": ["-h", "--help"]})
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
    "audit": "timestamp_lint.audit.command:audit",
    "explain": "timestamp_lint.explain:explain",
    "server": "timestamp_lint.server:server",
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
    signal.signal(signal.SIGINT, _raise_interrupted)
    stdout = sys.stdout
    try:
        try:
            returned = command.main(args, prog_name=name, standalone_mode=False)
            status = returned if isinstance(returned, int) else 0
        except SystemExit as exit:
            status = exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 1
            if isinstance(exit.code, str):
                print(exit.code, file=sys.stderr)
        except click.ClickException as exc:  # usage errors, as click prints them
            exc.show()
            status = exc.exit_code
        except (click.Abort, Interrupted):  # Ctrl-C (or end of input while click reads)
            status = EXIT_INTERRUPTED
            with contextlib.suppress(OSError, ValueError):
                print("timestamp-lint: interrupted", file=sys.stderr)
        except OSError as exc:  # writing the output failed
            status = _output_failed(exc)
        if sys.stdout is not stdout:  # click met a closed pipe (EPIPE), and exited 1
            status = _output_failed(OSError(errno.EPIPE, os.strerror(errno.EPIPE)))
            stdout = None
        # The run is over and its output written: leave without tearing down every object
        # the run created, one by one (a tenth of a second on a large project; mypy does the
        # same). What stdout still buffers must reach it, or the run failed.
        try:
            if stdout is not None:
                stdout.flush()
        except OSError as exc:
            status = _output_failed(exc)
        except ValueError:
            pass
    except Interrupted:  # Ctrl-C while reporting an outcome
        status = EXIT_INTERRUPTED
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(status)
