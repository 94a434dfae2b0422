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

import sys
from pathlib import Path
from typing import Sequence

from ..events import EventLog
from ..server.redislink import RedisLink
from ..server.worker import run_worker, serve, worker_parser
from .gateway import DEFAULT_PREFIX, RemoteChatHandler, WorkerLink
from .server import CLASSROOM_MAX_MESSAGE_SIZE
from .wheels import wheel_routes

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    # --options: the classroom's own settings (origins, xheaders, limits).
    parser = worker_parser("python -m wstutorial.classroom.worker", __doc__.split("\n")[0])
    parser.add_argument("--prefix", default=DEFAULT_PREFIX, help="the room's Redis channels start with this")
    parser.add_argument("--wheels", metavar="DIR", default=None, help="a wheelhouse to serve at /wheels/, as the classroom does")
    args = parser.parse_args(argv)
    events = EventLog()
    # One Redis link for the process, shared by the relay (/updates) and the chat room's link: one backoff, one line per outage.
    redis_link = RedisLink(args.redis, events, "worker's Redis link")
    link = WorkerLink(args.redis, events, args.prefix, redis_link)
    return run_worker(
        serve(
            args.host, args.port, args.redis, args.channel,
            events=events,
            handlers={"/chat": (RemoteChatHandler, {"link": link})},
            services=[link],
            link=redis_link,
            routes=wheel_routes(Path(args.wheels)) if args.wheels else (),
            **{"max_message_size": CLASSROOM_MAX_MESSAGE_SIZE, **args.options},
        )
    )


if __name__ == "__main__":
    sys.exit(main())
