"""ChatPanel, the student's chat widget, against a real classroom server."""

from __future__ import annotations

import asyncio

from websockets.sync.client import connect

from helpers import wait_until
from wstutorial.classroom import Classroom, start_classroom
from wstutorial.widgets.chatpanel import ChatPanel


def test_chat_panel_join_say_leave(classroom: Classroom) -> None:
    """Join with the fields, send with the box, see the lines (as text), leave."""

    async def main() -> None:
        panel = ChatPanel("localhost", classroom.port, "Ada")
        assert panel.leave_button.disabled and not panel.join_button.disabled
        panel.join_button.click()
        await panel.wait()
        await wait_until(lambda: "you joined as Ada" in panel.lines.value)
        assert panel.members.value == "in the room: Ada" and panel.join_button.disabled
        assert panel.name_field.disabled
        panel.say_field.value = '<img src=x onerror="alert(1)">'
        panel.say_button.click()
        await panel.wait()
        await wait_until(lambda: 'Ada: <img src=x onerror="alert(1)">' in panel.lines.value)
        assert panel.say_field.value == ""
        assert classroom.set_stream_running(False) is True
        await wait_until(lambda: "the teacher stopped the stream" in panel.lines.value)
        panel.leave_button.click()
        await panel.wait()
        await wait_until(lambda: panel.status.value.startswith("left the room (code 1000"))
        assert not panel.join_button.disabled
        panel.close()

    asyncio.run(main())


def test_chat_panel_batches_a_burst() -> None:
    """A burst of 60 messages from the room reaches the panel in a few display updates."""
    from wstutorial.classroom.room import ChatRoom

    room = ChatRoom(rate=1000, burst=1000)
    with start_classroom(port=0, room=room) as classroom:

        async def main() -> None:
            panel = ChatPanel("localhost", classroom.port, "Ada", max_lines=20)
            panel.join_button.click()
            await panel.wait()
            updates = []
            panel.lines.observe(lambda change: updates.append(change), names="value")

            def talk() -> None:  # another student, in another thread (the loop keeps reading)
                # (under the server's 64 queued messages per client, beyond which it drops)
                with connect(classroom.chat_url("Bob"), max_queue=None) as bob:
                    for i in range(60):
                        bob.send(f"line {i}")

            await asyncio.to_thread(talk)
            await wait_until(lambda: "Bob: line 59" in panel.lines.value)
            assert len(panel.lines.value.splitlines()) == 20
            assert len(updates) < 30  # batched, not one update per message
            panel.close()

        asyncio.run(main())
