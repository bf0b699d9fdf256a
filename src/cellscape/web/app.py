"""The FastAPI app of ``cellscape serve``: one run folder on an interactive map.

Endpoints (all GET; JSON errors ``{"detail": "..."}``):

- ``/``: the map page (``static/index.html``); ``/static/...``: its JS/CSS (MapLibre GL JS vendored)
- ``/api/run``: name, extent (WGS 84), raster layers with legends and tile URLs, vector layers,
  credits, whether link budgets are available, the files ``/files/`` serves
- ``/api/tiles/{layer}/{z}/{x}/{y}.png``: XYZ web-mercator tiles of ``rsrp_dbm``, ``sinr_db``,
  ``throughput_mbps``, ``best_sector`` (z 0..22)
- ``/api/vector/{layer}``: GeoJSON (WGS 84) of ``buildings``, ``streets``, ``sites``, ``plan``, and of a
  ``cellscape simulate`` folder's ``users`` and ``events`` (legends of those two in ``/api/run``)
- ``/api/linkbudget?lon=..&lat=..&top=5``: the link budget at a point
  (:func:`cellscape.coverage.point.link_budget_on`)
- ``/files/{path}``: a file of the run folder (kpis.json, PNGs, ...); nothing outside it

Bounds: request bodies over 64 KB (the API takes none) are refused with 413, bodies without a
Content-Length with 411, query strings over 2 KB with 414; the Host header must name the address
served (DNS rebinding), unless the server listens on all interfaces.

Access token (``create_app(..., token=...)``; ``cellscape serve`` gives one whenever it listens
beyond this machine): every request, the page, its scripts, tiles and files included, must carry
it, or is answered 401. It is accepted as ``?token=`` (the response then sets it as an HttpOnly,
SameSite=Strict cookie, so the page's own requests carry it), as ``Authorization: Bearer``, or as
that cookie (:class:`TokenRequired`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
import hmac
from pathlib import Path
import re
import threading
from urllib.parse import parse_qsl

from fastapi import FastAPI, HTTPException, Query
from fastapi.middleware.trustedhost import TrustedHostMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from cellscape.errors import CellscapeError, DataFileError, GeometryError
from cellscape.web.run_folder import RunFolder
from cellscape.web.tiles import render_tile, tile_in_range

STATIC_DIR = Path(__file__).parent / "static"
VENDOR_FILES = ("maplibre-gl.js", "maplibre-gl.css")
MAX_BODY_BYTES = 64 * 1024
MAX_QUERY_BYTES = 2048
MAX_TOP = 50
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
TILE_CACHE_MB = 64.0
TOKEN_COOKIE = "cellscape_token"
MIN_TOKEN_CHARS = 16
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~-]+")


class TileCache:
    """Rendered tiles by (layer, z, x, y), least recently used dropped beyond ``max_mb``: a run
    folder does not change while it is served, and a map pans back and forth over the same tiles."""

    def __init__(self, max_mb: float = TILE_CACHE_MB):
        self.max_bytes = int(max_mb * 1e6)
        self._tiles: OrderedDict[tuple, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            png = self._tiles.get(key)
            if png is not None:
                self._tiles.move_to_end(key)
            return png

    def put(self, key: tuple, png: bytes) -> None:
        with self._lock:
            if key in self._tiles or len(png) > self.max_bytes:
                return
            self._tiles[key] = png
            self._bytes += len(png)
            while self._bytes > self.max_bytes:
                _, old = self._tiles.popitem(last=False)
                self._bytes -= len(old)


class BoundedRequests:
    """ASGI middleware: refuse request bodies over ``max_body_bytes`` (413), bodies of unknown
    length (411) and long query strings (414), before the app sees them."""

    def __init__(self, app, *, max_body_bytes: int = MAX_BODY_BYTES, max_query_bytes: int = MAX_QUERY_BYTES):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_query_bytes = max_query_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        status, detail = None, None
        length = headers.get(b"content-length")
        if len(scope.get("query_string", b"")) > self.max_query_bytes:
            status, detail = 414, f"query string longer than {self.max_query_bytes} bytes"
        elif b"transfer-encoding" in headers:
            status, detail = 411, "request bodies need a Content-Length"
        elif length is not None:
            try:
                n = int(length)
            except ValueError:
                n = -1
            if n < 0:
                status, detail = 400, "invalid Content-Length"
            elif n > self.max_body_bytes:
                status, detail = 413, f"request body of {n} bytes exceeds {self.max_body_bytes} bytes"
        if status is None:
            return await self.app(scope, receive, send)
        await JSONResponse({"detail": detail}, status_code=status, headers={"Connection": "close"})(scope, receive, send)


class TokenError(CellscapeError, ValueError):
    """An access token too weak or unsafe to guard a server."""


def check_token(token: str) -> str:
    """``token`` if it can guard a server: at least MIN_TOKEN_CHARS characters, all URL- and
    cookie-safe (letters, digits, ``. _ ~ -``, what ``secrets.token_urlsafe`` gives).

    >>> check_token("abcdefghijklmnop")
    'abcdefghijklmnop'
    >>> check_token("short")
    Traceback (most recent call last):
    ...
    cellscape.web.app.TokenError: an access token needs at least 16 characters, got 5
    """
    if len(token) < MIN_TOKEN_CHARS:
        raise TokenError(f"an access token needs at least {MIN_TOKEN_CHARS} characters, got {len(token)}")
    if not _TOKEN_CHARS.fullmatch(token):
        raise TokenError("an access token may hold only letters, digits and . _ ~ - (URL- and cookie-safe)")
    return token


class TokenRequired:
    """ASGI middleware: answer 401 to every HTTP request without ``token``.

    The token is read from the query (``?token=``), the ``Authorization: Bearer`` header or the
    cookie ``cellscape_token_<port>`` (the port in its name: cookies do not tell ports apart, and
    two servers on one machine have two tokens); each candidate is compared in constant time
    (:func:`hmac.compare_digest`). A request that brought it in the query gets the cookie back
    (HttpOnly: no script reads it; SameSite=Strict: no other site's page sends it).
    """

    def __init__(self, app, *, token: str):
        self.app = app
        self._token = check_token(token).encode()

    def _matches(self, candidate: str | None) -> bool:
        return candidate is not None and hmac.compare_digest(candidate.encode("utf-8", "replace"), self._token)

    @staticmethod
    def cookie_name(scope) -> str:
        server = scope.get("server")
        return f"{TOKEN_COOKIE}_{server[1]}" if server and server[1] is not None else TOKEN_COOKIE

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        name = self.cookie_name(scope)
        query = [v for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
                 if k == "token"]
        bearer = cookie = None
        for key, value in scope.get("headers") or []:
            if key == b"authorization":
                scheme, _, credentials = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer":
                    bearer = credentials.strip()
            elif key == b"cookie":      # by hand: http.cookies gives up on a whole header for one odd cookie
                for pair in value.decode("latin-1").split(";"):
                    k, eq, v = pair.strip().partition("=")
                    if eq and k == name:
                        cookie = v.strip().strip('"')
        from_query = any(self._matches(v) for v in query)
        if not (from_query or self._matches(bearer) or self._matches(cookie)):
            detail = ("this server needs its access token: open the address `cellscape serve` printed "
                      "(.../?token=...), or send Authorization: Bearer <token>")
            resp = JSONResponse({"detail": detail}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
            return await resp(scope, receive, send)
        if not from_query:
            return await self.app(scope, receive, send)
        set_cookie = f"{name}={self._token.decode()}; Path=/; HttpOnly; SameSite=Strict".encode()

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", set_cookie)]}
            await send(message)

        return await self.app(scope, receive, send_with_cookie)


def vendor_missing() -> list[str]:
    """The MapLibre files missing from ``static/vendor`` (``make venv`` puts them there)."""
    return [f for f in VENDOR_FILES if not (STATIC_DIR / "vendor" / f).is_file()]


def create_app(run_dir: str | Path, *, allowed_hosts: Sequence[str] | None = LOOPBACK_HOSTS,
               tile_cache_mb: float = TILE_CACHE_MB, token: str | None = None) -> FastAPI:
    """The web app serving ``run_dir`` (a folder written by ``cellscape run``, ``plan`` or ``simulate``).

    ``allowed_hosts``: Host header values accepted (None: any, for a server on all interfaces).
    ``tile_cache_mb``: memory for rendered tiles kept for reuse (0: none). [MB]
    ``token``: the access token every request must carry (:class:`TokenRequired`); None: open.

    Raises
    ------
    DataFileError
        If ``run_dir`` is not a run folder.
    TokenError
        If ``token`` is too short or holds other characters than :func:`check_token` allows.
    """
    if token is not None:
        check_token(token)
    folder = RunFolder(run_dir)
    app = FastAPI(title=f"cellscape: {folder.name}", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.folder = folder
    cache = TileCache(tile_cache_mb) if tile_cache_mb > 0 else None

    def not_found(detail: str) -> HTTPException:
        return HTTPException(status_code=404, detail=detail)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html",
                            headers={"Cache-Control": "no-cache"})

    @app.get("/api/run")
    def run_info() -> dict:
        return {**folder.metadata(), "vendor_missing": vendor_missing()}

    @app.get("/api/tiles/{layer}/{z}/{x}/{y}.png")
    def tile(layer: str, z: int, x: int, y: int) -> Response:
        if layer not in folder.rasters:
            raise not_found(f"unknown raster layer {layer!r}; this run has: {', '.join(folder.rasters) or 'none'}")
        why = tile_in_range(z, x, y)
        if why is not None:
            raise not_found(why)
        key = (layer, z, x, y)
        png = cache.get(key) if cache is not None else None
        if png is None:
            png = render_tile(folder.rasters[layer], z, x, y)
            if cache is not None:
                cache.put(key, png)
        return Response(png, media_type="image/png", headers={"Cache-Control": "public, max-age=60"})

    @app.get("/api/vector/{layer}")
    def vector(layer: str) -> FileResponse:
        if layer not in folder.vectors:
            raise not_found(f"unknown vector layer {layer!r}; this run has: {', '.join(folder.vectors) or 'none'}")
        return FileResponse(folder.vectors[layer], media_type="application/geo+json")

    @app.get("/api/linkbudget")
    def linkbudget(lon: float = Query(ge=-180.0, le=180.0), lat: float = Query(ge=-90.0, le=90.0),
                   top: int = Query(5, ge=1, le=MAX_TOP)) -> dict:
        try:
            return folder.link_budget(lon, lat, top=top)
        except GeometryError as exc:
            raise not_found(str(exc)) from None
        except DataFileError as exc:
            raise not_found(str(exc)) from None

    @app.get("/files/{path:path}")
    def files(path: str) -> FileResponse:
        try:
            real = folder.safe_file(path)
        except DataFileError as exc:
            raise not_found(str(exc)) from None
        return FileResponse(real)

    @app.exception_handler(CellscapeError)
    async def cellscape_error(request, exc: CellscapeError) -> JSONResponse:
        return JSONResponse({"detail": " ".join(str(exc).split())}, status_code=500)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    if token is not None:                  # added later = outer: the token is checked before the Host header
        app.add_middleware(TokenRequired, token=token)
    app.add_middleware(BoundedRequests)
    return app
