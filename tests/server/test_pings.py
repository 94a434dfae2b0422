"""Pings from one timer per loop (server/pings.py): each connection on its own schedule, nothing left for the collector.

``test_reliability`` shows a silent client is still closed by the ping timeout;
``test_tornado_internals`` that no Task per connection is made.
"""

from __future__ import annotations

import select
from typing import Any

import wstutorial
from helpers import raw_clients, tracked_objects_made_by
from wstutorial.server.pings import PingRound, effective_timeout


def this_loops_round() -> PingRound:
    """The one round of the server's loop (call in the server's thread)."""
    import tornado.ioloop

    (round_,) = [r for r in PingRound._rounds.values() if r.loop is tornado.ioloop.IOLoop.current()]
    return round_


def test_a_ping_round_leaves_nothing_for_the_collector() -> None:
    """Pinging 200 clients writes ready-made frames: no Future per connection (counted, not timed)."""
    clients = 200
    with wstutorial.start_server(port=0, ping_interval=60) as server:
        sockets = raw_clients(server, clients)
        try:

            def ping_everyone_now() -> int:
                round_ = this_loops_round()
                for member in round_.members:
                    member.pinged_at -= 120  # as if the last ping were two minutes old
                round_._tick()
                return len(round_.members)

            members, tracked = server.call(lambda: tracked_objects_made_by(ping_everyone_now))
            assert members == clients
            assert tracked < clients // 4, f"one ping round left {tracked} objects for the collector ({clients} clients)"
            for sock in sockets:
                assert sock.recv(4096) == b"\x89\x00"  # an empty ping
        finally:
            for sock in sockets:
                sock.close()


def test_each_connection_is_pinged_on_its_own_schedule() -> None:
    """Only connections whose last ping is ``ping_interval`` old are pinged, oldest first; the timer ticks ten times per interval.

    So clients that connected at different times are not all pinged (and do
    not all answer) in one moment, which would hold up a broadcast.
    """
    clients = 3
    with wstutorial.start_server(port=0, ping_interval=60) as server:
        sockets = raw_clients(server, clients)
        try:

            def stagger_and_tick() -> tuple[float, list[int]]:
                round_ = this_loops_round()
                now = round_.loop.time()
                members = list(round_.order)
                for member, age in zip(members, (61, 59, 30), strict=True):
                    member.pinged_at = now - age  # only the first is due
                round_._tick()
                return round_.timer.callback_time, [members.index(m) for m in round_.order]

            tick_ms, order = server.call(stagger_and_tick)
            assert tick_ms == 6000, "the timer should tick every tenth of the ping interval"
            assert order == [1, 2, 0], "the pinged connection goes to the back of the round"
            # The tick wrote straight to the sockets (loopback): what was sent is there now.
            select.select(sockets, [], [], 10)
            readable, _, _ = select.select(sockets, [], [], 0)
            assert len(readable) == 1, f"{len(readable)} connections got a ping; only the one that was due should"
            assert readable[0].recv(4096) == b"\x89\x00"
        finally:
            for sock in sockets:
                sock.close()


def test_a_closing_connection_leaves_its_round_at_once() -> None:
    """A connection that closes is no longer held by the round (nor pinged); the last one stops the timer."""
    with wstutorial.start_server(port=0, ping_interval=60) as server:
        sockets = raw_clients(server, 2)
        try:

            def members() -> Any:
                return [len(r.members) for r in PingRound._rounds.values()]

            assert server.call(members) == [2]
            for left in ([1], []):
                mark = server.events.next_seq
                sockets.pop().close()
                server.events.wait_for("connection closed", after=mark)
                assert server.call(members) == left
        finally:
            for sock in sockets:
                sock.close()


def test_timeout_as_tornado_reads_it() -> None:
    """None: the interval; longer than the interval: the interval; 0: no timeout (Tornado's websocket_ping_timeout)."""
    assert [effective_timeout(10, timeout) for timeout in (None, 30, 3, 0)] == [10, 10, 3, 0]
