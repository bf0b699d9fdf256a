"""Turn a CellscapeError into one line on stderr and exit status 1 (STYLE.md P15)."""

from __future__ import annotations

import functools
import warnings

import typer

from cellscape.errors import CellscapeError


def one_line_errors(command):
    """Decorator: 'error: <message>' on stderr and exit status 1 for any CellscapeError."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("default")
                warnings.showwarning = _one_line_warning
                return command(*args, **kwargs)
        except CellscapeError as exc:
            message = " ".join(str(exc).split())
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(code=1) from None
        except KeyboardInterrupt:
            typer.echo("interrupted: no partial output was left behind (a streamed run keeps its finished tiles "
                       "in OUT/.coverage.partial/ for --resume)", err=True)
            raise typer.Exit(code=130) from None

    return wrapper


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    """Show a warning as 'warning: <message>' on stderr, without the source line."""
    typer.echo(f"warning: {message}", err=True)
