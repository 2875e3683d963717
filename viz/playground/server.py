"""The Playground's HTTP server (standard library only): the page, its assets, and a small JSON
API per browser-tab session.

Routes (``<id>`` is the session a tab got from ``POST /api/session``):

    GET  /                      the page          GET /static/<file>   its JS and CSS
    GET  /api/schema            what the page validates before asking
    POST /api/session           {"fragment": "..."} -> a new session (its state, and "error")
    GET  /api/session/<id>/state            POST .../advance   (train for a moment if playing)
    POST .../settings {name: value}         POST .../action {"action": name, "layer": i}
    POST .../upload?name=file.csv (the CSV as the body)        POST .../close
    GET  .../points   .../graph.svg   .../backprop   .../model.npz   .../script.py

A refused request answers 400 with {"error": message, "state": ...}; the session is unchanged.
Unexpected exceptions answer 500 and are logged; the server keeps serving.
"""

from __future__ import annotations

import json
import secrets
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, unquote, urlsplit

import graphviz

from . import settings as S
from .data import MAX_BYTES
from .export import model_npz, script
from .session import Session
from .views import backprop_steps, graph_svg

STATIC = {"index.html": "text/html; charset=utf-8",
          "playground.js": "text/javascript; charset=utf-8",
          "draw.js": "text/javascript; charset=utf-8",
          "playground.css": "text/css; charset=utf-8"}
MAX_JSON = 64 * 1024
DISCARD = 32 << 20


class Sessions:
    """The live sessions; any idle longer than ``timeout`` seconds is dropped by ``sweep``."""

    def __init__(self, timeout: float = 1800.0, limit: int = 64) -> None:
        if not timeout > 0:
            raise ValueError(f"Sessions: idle timeout must be > 0 seconds, got {timeout}")
        self.timeout, self.limit = float(timeout), int(limit)
        self._items: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self) -> tuple[str, Session]:
        self.sweep()
        sid, session = secrets.token_hex(8), Session()
        with self._lock:
            if len(self._items) >= self.limit:   # the least recently used one makes room
                del self._items[min(self._items, key=lambda k: self._items[k].touched)]
            self._items[sid] = session
        return sid, session

    def get(self, sid: str) -> Session | None:
        with self._lock:
            session = self._items.get(sid)
        if session is not None:
            session.touched = time.monotonic()
        return session

    def close(self, sid: str) -> None:
        with self._lock:
            self._items.pop(sid, None)

    def sweep(self) -> int:
        """Drop idle sessions; returns how many went."""
        now = time.monotonic()
        with self._lock:
            old = [k for k, s in self._items.items() if now - s.touched > self.timeout]
            for k in old:
                del self._items[k]
        return len(old)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Handler(BaseHTTPRequestHandler):
    server_version = "graphgrad-playground/1"
    sessions: Sessions   # set on the subclass that make_server builds
    quiet = True

    def log_message(self, fmt, *args) -> None:
        if not self.quiet:
            super().log_message(fmt, *args)

    # ---- dispatch -------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.split("/") if p]
        session = None
        try:
            if method == "GET" and (not parts or parts == ["index.html"]):
                return self._static("index.html")
            if method == "GET" and len(parts) == 2 and parts[0] == "static":
                return self._static(parts[1])
            if parts == ["api", "schema"] and method == "GET":
                return self._json(200, S.schema())
            if parts == ["api", "session"] and method == "POST":
                return self._create(self._body_json())
            if len(parts) == 4 and parts[:2] == ["api", "session"]:
                session = self.sessions.get(parts[2])
                if session is None:
                    raise Refused(404, "this Playground session has expired (idle too long); "
                                       "the page starts a new one")
                with session.lock:
                    return self._session(method, parts[2], parts[3], session, url.query)
            raise Refused(404, f"no such page: {method} {url.path[:80]}")
        except Refused as err:
            self._json(err.status, {"error": str(err), "expired": err.status == 404})
        except S.SettingsError as err:
            if session is None:
                return self._json(400, {"error": str(err)})
            with session.lock:   # the page shows it until the next accepted change
                if not session.diverged:
                    session.error = str(err)
                state = session.state()
            self._json(400, {"error": str(err), "state": state})
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as err:   # a bug must cost one request, never the server
            traceback.print_exc(file=sys.stderr)
            try:
                self._json(500, {"error": f"internal error: {type(err).__name__}: {err}"})
            except OSError:
                pass

    def _session(self, method, sid, what, session, query) -> None:
        if method == "GET" and what == "state":
            return self._json(200, session.state())
        if method == "GET" and what == "points":
            return self._json(200, session.points_json())
        if method == "GET" and what in ("graph.svg", "backprop") and session.diverged:
            raise Refused(409, "training diverged, so there are no finite values to show; press "
                               "reset to start again")
        if method == "GET" and what == "graph.svg":
            try:
                svg = graph_svg(session)
            except graphviz.ExecutableNotFound:
                raise Refused(503, "the graph needs graphviz's dot program: install the system "
                                   "package graphviz (e.g. apt-get install graphviz)") from None
            return self._send(200, svg.encode("utf-8"), "image/svg+xml; charset=utf-8")
        if method == "GET" and what == "backprop":
            return self._json(200, backprop_steps(session))
        if method == "GET" and what == "model.npz":
            return self._send(200, model_npz(session), "application/octet-stream",
                              download="playground-model.npz")
        if method == "GET" and what == "script.py":
            return self._send(200, script(session).encode("utf-8"), "text/x-python; charset=utf-8",
                              download="playground_model.py")
        if method != "POST":
            raise Refused(405 if what in ("advance", "settings", "action", "upload",
                                                     "fragment", "close")
                          else 404, f"no such request: {method} .../{what[:40]}")
        if what == "advance":
            self._body_json()
            session.advance()
        elif what == "settings":
            session.update(self._body_json())
            session.error = "" if not session.diverged else session.error
        elif what == "action":
            body = self._body_json()
            if not isinstance(body, dict) or not isinstance(body.get("action"), str):
                raise S.SettingsError('action: expected {"action": name, "layer": i}')
            session.action(body["action"], body.get("layer"))
            session.error = "" if not session.diverged else session.error
        elif what == "upload":
            name = (parse_qs(query).get("name") or ["upload.csv"])[0][:80]
            session.upload(self._body(MAX_BYTES, f"{name}: the file"), name)
            session.error = ""
        elif what == "fragment":
            body = self._body_json()
            fragment = body.get("fragment") if isinstance(body, dict) else None
            if not isinstance(fragment, str):
                raise S.SettingsError('fragment: expected {"fragment": "key=value&..."}')
            # The URL is the whole state: what it leaves out is the default, as on a fresh load.
            session.update(S.apply(S.defaults(), S.from_fragment(fragment)))
            session.error = "" if not session.diverged else session.error
        elif what == "close":
            self._body(MAX_JSON)
            self.sessions.close(sid)
            return self._json(200, {"closed": True})
        else:
            raise Refused(404, f"no such request: POST .../{what[:40]}")
        session.version += 1   # the page ignores replies older than one it has drawn
        self._json(200, session.state())

    def _create(self, body) -> None:
        fragment = body.get("fragment", "") if isinstance(body, dict) else ""
        sid, session = self.sessions.create()
        with session.lock:
            error = ""
            if isinstance(fragment, str) and fragment.strip("#"):
                try:
                    session.update(S.from_fragment(fragment))
                except S.SettingsError as err:   # a forged URL: defaults, and say why
                    error = f"the URL's settings were refused, defaults kept: {err}"
            session.error = error
            self._json(200, {"id": sid, "state": session.state()})

    # ---- bodies and replies ---------------------------------------------------------------------
    def _body(self, limit: int, what: str = "the request") -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise Refused(400, "Content-Length is not a number") from None
        if length > limit:
            # Read (and drop) what the client is sending, so that it sees the answer rather than
            # a reset connection; beyond DISCARD bytes, hang up instead.
            left = length if length <= DISCARD else 0
            while left > 0:
                left -= len(self.rfile.read(min(left, 1 << 16)) or b"\0" * left)
            self.close_connection = True
            raise S.SettingsError(f"{what} has {length:,} bytes; at most {limit:,} are accepted")
        return self.rfile.read(length) if length > 0 else b""

    def _body_json(self):
        raw = self._body(MAX_JSON)
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise Refused(400, f"the request body is not JSON: {err}") from None

    def _static(self, name: str) -> None:
        if name not in STATIC:
            raise Refused(404, f"no such file: {name[:80]}")
        data = resources.files("viz.playground").joinpath("static", name).read_bytes()
        self._send(200, data, STATIC[name])

    def _json(self, status: int, obj) -> None:
        self._send(status, json.dumps(obj, allow_nan=False).encode("utf-8"),
                   "application/json; charset=utf-8")

    def _send(self, status: int, data: bytes, ctype: str, download: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        if download:
            self.send_header("Content-Disposition", f'attachment; filename="{download}"')
        self.end_headers()
        self.wfile.write(data)


def make_server(host: str = "127.0.0.1", port: int = 8765, idle_timeout: float = 1800.0,
                quiet: bool = True) -> ThreadingHTTPServer:
    """A ready server (``port=0`` picks a free one: ``server.server_address``) whose sessions are
    swept every few seconds by a daemon thread; call ``serve_forever()`` and ``shutdown()``."""
    sessions = Sessions(idle_timeout)
    handler = type("PlaygroundHandler", (Handler,), {"sessions": sessions, "quiet": quiet})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.sessions = sessions

    def sweeper() -> None:
        period = min(max(idle_timeout / 4, 0.05), 30.0)
        while not getattr(server, "_closed", False):
            time.sleep(period)
            sessions.sweep()

    threading.Thread(target=sweeper, name="playground-sweeper", daemon=True).start()
    return server
