"""Turn a CellscapeError into one line on stderr and exit status 1 (STYLE.md P15)."""

from __future__ import annotations

import functools

import typer

from cellscape.errors import CellscapeError


def one_line_errors(command):
    """Decorator: 'error: <message>' on stderr and exit status 1 for any CellscapeError."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except CellscapeError as exc:
            message = " ".join(str(exc).split())
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(code=1) from None
        except KeyboardInterrupt:
            typer.echo("interrupted: no partial output was left behind", err=True)
            raise typer.Exit(code=130) from None

    return wrapper
