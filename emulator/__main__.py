"""`python -m emulator [--host H] [--port P]`: serve until SIGTERM/SIGINT.

Prints exactly one line, `EMULATOR_READY http://HOST:PORT`, once the socket is listening.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from emulator.server import start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--token-delay-ms", type=int, default=0, help="delay between SSE events (default 0)"
    )
    parser.add_argument(
        "--no-auth", action="store_true", help="do not require an Authorization: Bearer header"
    )
    args = parser.parse_args(argv)
    emulator = start(
        args.host, args.port, require_auth=not args.no_auth, token_delay_ms=args.token_delay_ms
    )
    stopped = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopped.set())
    print(f"EMULATOR_READY {emulator.base_url}", flush=True)
    stopped.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
