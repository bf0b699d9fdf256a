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
            typer.echo(f"error: {one_line(str(exc))}", err=True)
            raise typer.Exit(code=1) from None
        except (MemoryError, RecursionError) as exc:      # resource exhaustion: still one line, no traceback
            what = "out of memory" if isinstance(exc, MemoryError) else "input nested too deeply"
            typer.echo(f"error: {what} ({type(exc).__name__}); use a smaller input", err=True)
            raise typer.Exit(code=1) from None
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM raised by cli._signals.Interrupted (its .signum)
            typer.echo("interrupted: no partial output was left behind (a streamed run keeps its finished tiles "
                       "in OUT/.coverage.partial/ for --resume)", err=True)
            raise typer.Exit(code=128 + getattr(exc, "signum", 2)) from None    # 130 for SIGINT, 143 for SIGTERM

    return wrapper


MAX_MESSAGE_CHARS = 2000
"""An error line longer than this is cut (a message quoting a huge input stays readable)."""


def one_line(message: str) -> str:
    """``message`` on one line (whitespace runs become one space), cut to :data:`MAX_MESSAGE_CHARS`.

    >>> one_line("a\\n  b")
    'a b'
    >>> len(one_line("x" * 5000)) <= MAX_MESSAGE_CHARS
    True
    """
    text = " ".join(message.split())
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS - 20] + " ... (cut)"


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    """Show a warning as 'warning: <message>' on stderr, without the source line."""
    typer.echo(f"warning: {message}", err=True)
