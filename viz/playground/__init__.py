"""The graphgrad Playground: the TensorFlow Playground's page, trained live by graphgrad.

    python -m viz.playground [--host 127.0.0.1] [--port 8765] [--no-browser]

The server (``server.py``, standard library only) keeps one ``Session`` per browser tab
(``session.py``): settings validated by ``settings.py``, data from ``data.py``, the network and
its training step in ``core.py`` (also the body of the exported script, ``export.py``), the graph
and backprop views in ``views.py``.  The page is ``static/`` (plain HTML, JS and CSS).
"""

from .server import make_server
from .session import Session

__all__ = ["make_server", "Session"]
