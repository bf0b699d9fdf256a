"""``cellscape serve``: the local web map of a run folder (registered in cli/app.py).

Served beyond this machine (any ``--host`` other than 127.0.0.1, ::1, localhost), every request
needs an access token: the one given by ``--token`` (or the environment variable
CELLSCAPE_SERVE_TOKEN), else a fresh one (``secrets.token_urlsafe``) printed in the address
``http://HOST:PORT/?token=...``. On loopback the map stays open unless a token is given.
"""

from __future__ import annotations

from pathlib import Path
import secrets
import socket
from typing import Annotated

import typer

from cellscape.cli._errors import one_line_errors
from cellscape.errors import CellscapeError

ALL_INTERFACES = ("0.0.0.0", "::", "")
TOKEN_ENV = "CELLSCAPE_SERVE_TOKEN"
TOKEN_BYTES = 32


def _url(host: str, port: int, token: str | None = None) -> str:
    """The address to print: ``http://127.0.0.1:8000/``, IPv6 hosts in brackets, ``?token=`` when given.

    >>> _url("127.0.0.1", 8000), _url("::1", 8080), _url("127.0.0.1", 80, token="abc")
    ('http://127.0.0.1:8000/', 'http://[::1]:8080/', 'http://127.0.0.1:80/?token=abc')
    """
    url = f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"
    return url if token is None else f"{url}?token={token}"


def is_loopback(host: str) -> bool:
    """Whether ``host`` serves this machine only.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    return host in ("127.0.0.1", "::1", "[::1]", "localhost")


def access_token(host: str, given: str | None) -> tuple[str | None, bool]:
    """The token the server at ``host`` requires and whether it was generated here: ``given`` if
    any (loopback included), else a fresh ``secrets.token_urlsafe`` beyond loopback, else None (open).

    >>> access_token("127.0.0.1", None)
    (None, False)
    >>> access_token("127.0.0.1", "a-token-given-by-the-user")
    ('a-token-given-by-the-user', False)
    >>> token, generated = access_token("0.0.0.0", None); generated and len(token) >= 40
    True
    """
    if given:
        return given, False
    if is_loopback(host):
        return None, False
    return secrets.token_urlsafe(TOKEN_BYTES), True


class ServeError(CellscapeError, OSError):
    """The server cannot start (address in use, no permission)."""


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port) (port 0: a free one); ServeError when it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only on such sockets; without it a
    # keep-alive client waits ~40 ms (delayed ACK) for each response
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    return sock


@one_line_errors
def serve(
    run_dir: Annotated[Path, typer.Argument(help="A run folder: the output of `cellscape run -o` (or `cellscape plan -o`, `cellscape simulate -o`).")],
    host: Annotated[str, typer.Option(help="Address to listen on; the default serves this machine only.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port; 0 picks a free one.", min=0, max=65535)] = 8000,
    token: Annotated[str | None, typer.Option(
        envvar=TOKEN_ENV, show_envvar=True,
        help="Access token every request must carry (?token=, a cookie, or Authorization: Bearer); at least 16 "
             "URL-safe characters. Default: none on loopback, a fresh one printed in the address otherwise.")] = None,
) -> None:
    """Show a run on a local interactive map: coverage layers, sites, buildings, plan; click for a link budget."""
    import warnings

    from rio_tiler.errors import NoOverviewWarning
    import uvicorn

    from cellscape.web.app import LOOPBACK_HOSTS, create_app, vendor_missing

    # not news to a user, and once per tile otherwise: small run maps have no overviews (rio-tiler reads the
    # full band), and rasterio's affine arithmetic inside rio-tiler warns of a future deprecation
    warnings.filterwarnings("ignore", category=NoOverviewWarning)
    warnings.filterwarnings("ignore", category=PendingDeprecationWarning)

    allowed = None if host in ALL_INTERFACES else tuple(LOOPBACK_HOSTS) + (host,)
    required, generated = access_token(host, token)
    app = create_app(run_dir, allowed_hosts=allowed, token=required)
    missing = vendor_missing()
    if missing:
        typer.echo(f"warning: the map page needs {', '.join(missing)} in cellscape/web/static/vendor "
                   f"(run `make vendor`); the API works without them", err=True)
    if not is_loopback(host):
        typer.echo(f"warning: listening on {host or 'all interfaces'}: other machines with the access token can "
                   f"read this run folder", err=True)
    sock = bind_socket(host, port)
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    folder = app.state.folder
    url = _url(shown, sock.getsockname()[1], required if generated else None)
    given = "" if required is None or generated else f"; every request needs the token of --token/{TOKEN_ENV}"
    typer.echo(f"serving {folder.name} ({run_dir}) at {url} (Ctrl-C to stop{given})")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                           limit_concurrency=1000, timeout_keep_alive=30))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:       # Ctrl-C or SIGTERM, re-raised by uvicorn once it has shut down: the way to stop
        typer.echo("stopped", err=True)
    finally:
        sock.close()
