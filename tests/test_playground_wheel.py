"""Packaging: a wheel built from the repository carries the Playground's page (HTML, JS, CSS), and
``python -m viz.playground`` from a clean venv with that wheel installed serves all of it.

Offline: the wheel is built without build isolation (setuptools>=77 is in the dev extra) and
installed without dependencies; the new venv reaches numpy and graphviz through a .pth file that
points at the test interpreter's site-packages, after its own (so the wheel's viz is the one used).
"""

import os
import re
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ["index.html", "playground.js", "draw.js", "playground.css"]

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_installed_wheel_serves_the_page(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps",
                            "--no-build-isolation", "-q", "-w", str(tmp_path / "dist")],
                           capture_output=True, text=True, timeout=120, env=env)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("graphgrad-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for asset in ASSETS:
        assert f"viz/playground/static/{asset}" in names, asset

    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                                "--no-index", "--target", purelib, str(wheel)],
                               capture_output=True, text=True, timeout=120, env=env)
    assert installed.returncode == 0, installed.stderr[-2000:]
    Path(purelib, "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    where = subprocess.run([str(python), "-c", "import viz.playground as p; print(p.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert where.stdout.strip().startswith(purelib), (where.stdout, where.stderr)

    port = _free_port()
    server = subprocess.Popen([str(python), "-m", "viz.playground", "--no-browser", "--port",
                                str(port)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        assert f"127.0.0.1:{port}" in line, (line, server.poll())
        base = f"http://127.0.0.1:{port}"
        page = _get(base + "/")
        assert b'data-testid="play"' in page
        linked = re.findall(rb'(?:src|href)="/static/([^"]+)"', page)
        assert sorted(x.decode() for x in linked) == sorted(a for a in ASSETS if a != "index.html")
        for asset in ASSETS[1:]:
            assert len(_get(f"{base}/static/{asset}")) > 500, asset
        assert b'"features"' in _get(base + "/api/schema")
        req = urllib.request.Request(base + "/api/session", data=b"{}", method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            assert b'"epoch": 0' in r.read()
    finally:
        server.terminate()
        server.wait(10)
        server.stdout.close()


def _get(url: str) -> bytes:
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as r:
                return r.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
