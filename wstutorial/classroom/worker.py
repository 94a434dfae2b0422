"""One worker process of a classroom with ``--workers``: students' sockets, the room elsewhere.

    python -m wstutorial.classroom.worker --redis redis://127.0.0.1:6379/0 --prefix wstutorial:classroom

A worker of ``server/worker.py`` (``/ws``, ``/streaming``, ``/echo``, the
pages, ``/updates``, and ``/wheels/`` with ``--wheels``) whose ``/chat``
forwards each student to the room through Redis (:mod:`.gateway`), with the
classroom's own settings (``--options``: origins, xheaders, limits), and
whose ``/ws`` and ``/streaming`` connections are reported to the teacher's
page. ``start_classroom(workers=N)`` starts these;
they talk to it like every cluster worker (JSON lines on stdout, stop when
stdin closes).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import Sequence

from ..events import EventLog
from ..server.relay import DEFAULT_CHANNEL
from ..server.worker import add_settings_argument, emit, serve
from .gateway import DEFAULT_PREFIX, RemoteChatHandler, WorkerLink
from .server import CLASSROOM_MAX_MESSAGE_SIZE
from .wheels import wheel_routes

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wstutorial.classroom.worker", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--redis", required=True, help="Redis URL, e.g. redis://127.0.0.1:6379/0")
    parser.add_argument("--channel", default=DEFAULT_CHANNEL)
    parser.add_argument("--prefix", default=DEFAULT_PREFIX, help="the room's Redis channels start with this")
    parser.add_argument("--wheels", metavar="DIR", default=None, help="a wheelhouse to serve at /wheels/, as the classroom does")
    add_settings_argument(parser)  # the classroom's own settings: origins, xheaders, limits
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    events = EventLog()
    link = WorkerLink(args.redis, events, args.prefix)
    try:
        asyncio.run(
            serve(
                args.host, args.port, args.redis, args.channel,
                events=events,
                handlers={"/chat": (RemoteChatHandler, {"link": link})},
                services=[link],
                routes=wheel_routes(Path(args.wheels)) if args.wheels else (),
                **{"max_message_size": CLASSROOM_MAX_MESSAGE_SIZE, **args.options},
            )
        )
    except KeyboardInterrupt:
        pass
    except (ConnectionError, OSError, ValueError, TypeError) as error:  # ValueError, TypeError: a bad setting
        emit({"error": str(error)})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
