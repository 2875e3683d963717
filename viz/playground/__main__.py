"""``python -m viz.playground [--host 127.0.0.1] [--port 8765] [--no-browser]``"""

from __future__ import annotations

import argparse
import sys
import threading
import webbrowser

from .server import make_server


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m viz.playground",
                                     description="The graphgrad Playground: a neural network "
                                                 "trained live in your browser by graphgrad.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    parser.add_argument("--idle-timeout", type=float, default=1800.0, metavar="SECONDS",
                        help="drop a tab's session after this long without a request "
                             "(default 1800)")
    parser.add_argument("--log", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be 0 to 65535, got {args.port}")
    if not args.idle_timeout > 0:
        parser.error(f"--idle-timeout must be > 0 seconds, got {args.idle_timeout}")
    try:
        server = make_server(args.host, args.port, args.idle_timeout, quiet=not args.log)
    except OSError as err:
        print(f"viz.playground: cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr)
        return 1
    host, port = server.server_address[:2]
    url = f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/"
    print(f"graphgrad Playground at {url}  (Ctrl-C stops it)", flush=True)
    if not args.no_browser:
        threading.Timer(0.3, webbrowser.open, (url,)).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
