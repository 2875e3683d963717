"""Shared by the Playground's tests: a server on a free port in a thread, and JSON requests."""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.error
import urllib.request

from viz.playground import make_server

# Every data-testid of the contract (shared/API.md, "Playground") that exists on a fresh page.
STATIC_TESTIDS = [
    "dataset", "activation", "learning-rate", "regularization", "regularization-rate",
    "batch-size", "noise", "train-ratio", "problem", "loss", "optimizer", "layers-add",
    "layers-remove", "regenerate", "show-test", "discretize", "play", "step", "reset", "epoch",
    "loss-train", "loss-test", "boundary", "graph", "backprop", "backprop-next", "backprop-prev",
    "backprop-panel", "upload", "export-model", "export-code", "error"]
FEATURES = ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"]


@contextlib.contextmanager
def running_server(idle_timeout: float = 600.0):
    server = make_server("127.0.0.1", 0, idle_timeout=idle_timeout)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, "http://127.0.0.1:%d" % server.server_address[1]
    finally:
        server._closed = True
        server.shutdown()
        server.server_close()
        thread.join(5)


def fetch(url: str, method: str = "GET", body=None, raw: bytes | None = None,
          headers: dict | None = None) -> tuple[int, bytes, dict]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def api(url: str, method: str = "GET", body=None, raw: bytes | None = None):
    status, data, _ = fetch(url, method, body, raw)
    return status, json.loads(data)


class Client:
    """One tab's session through the HTTP API."""

    def __init__(self, base: str, fragment: str = "") -> None:
        self.base = base
        status, reply = api(base + "/api/session", "POST", {"fragment": fragment})
        assert status == 200, reply
        self.sid, self.state = reply["id"], reply["state"]
        self.url = f"{base}/api/session/{self.sid}/"

    def post(self, what: str, body=None, raw: bytes | None = None):
        status, reply = api(self.url + what, "POST", body if raw is None else None, raw)
        if status == 200:
            self.state = reply
        return status, reply

    def get(self, what: str):
        return api(self.url + what)

    def settings(self, **changes):
        return self.post("settings", {k.replace("_", "-"): v for k, v in changes.items()})

    def action(self, name: str, layer=None):
        return self.post("action", {"action": name, "layer": layer})
