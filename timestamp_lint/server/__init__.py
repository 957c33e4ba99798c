"""`timestamp-lint server`: a Language Server over stdin/stdout (the `server` extra)."""

from __future__ import annotations

import sys

import click


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--debounce",
    type=click.IntRange(min=0, max=10_000),
    default=10,
    show_default=True,
    metavar="MS",
    help="Changes closer together than this are linted once, when they stop.",
)
def server(debounce: int) -> None:
    """Run the Language Server over stdin and stdout (for editors)."""
    try:
        from timestamp_lint.server.lsp import serve
    except ImportError as exc:
        click.echo(
            f"timestamp-lint: error: the server needs the 'server' extra ({exc}); "
            "install it with: pip install 'timestamp-lint[server]'",
            err=True,
        )
        sys.exit(2)
    sys.exit(serve(debounce / 1000))
