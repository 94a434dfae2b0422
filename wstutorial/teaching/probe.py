"""The student's handler class, watched while a check serves it.

A check serves a subclass of the student's class (:attr:`Probe.watched`)
that behaves the same but notes what a sentence for the student needs:

- an exception in one of the student's methods: which method, which line
  (never the exception's text);
- an answer that ``on_message`` returned instead of sending;
- something given to ``write_message`` that is not a message (a number, a
  method not called);
- a connection that gave itself a collection of its own where the class
  holds one for all (``self.room = set()`` in ``open``: state on the
  instance instead of the class);
- an attribute of the class set while connections ran
  (``StreamTimeHandler.timer = ...``: state on the class instead of the
  instance, shared by every connection);
- a method named almost like one Tornado calls (``on_mesage``).

:meth:`Probe.explain` picks the sentence that names the cause; the check's
own sentence ("no answer within 3 s") is kept when nothing better is known.
"""

from __future__ import annotations

import difflib
import inspect
import threading
import time
from typing import Any, Callable, cast

from tornado.web import HTTPError
from tornado.websocket import WebSocketHandler

from .selfcheck import NotYet, Raised, describe

__all__ = ["HOOKS", "Probe"]

# The methods of a WebSocketHandler that Tornado calls by name.
HOOKS = (
    "open",
    "on_message",
    "on_close",
    "on_ping",
    "on_pong",
    "prepare",
    "get_current_user",
    "check_origin",
    "select_subprotocol",
    "on_connection_close",
)

_MESSAGE_TYPES = (str, bytes, bytearray, memoryview, dict)
_COLLECTIONS = (set, list, dict)
_SHARED_KINDS = (int, float, bool, type(None), set, list, dict, tuple, frozenset)

ReturnCheck = Callable[[Any], "str | None"]


def _is_library(cls: type) -> bool:
    return cls is object or cls.__module__.split(".")[0] in ("tornado", "wstutorial")


class Probe:
    """Serves ``handler_class`` as :attr:`watched` and notes what the student's code did.

    ``name`` is the class's name in the exercise (``"UpperCaseHandler"``);
    ``returns`` maps a method's name to a function that returns a sentence
    when that method returned something it should not have (or None);
    ``extend(cls)`` makes the check's own subclass to serve (e.g. with a
    shorter interval), which the probe then watches; ``message_hint`` says
    what to send instead of a number. Raises :class:`NotYet` when
    ``handler_class`` is not a handler class.
    """

    def __init__(
        self,
        handler_class: object,
        name: str,
        *,
        base: type = WebSocketHandler,
        base_hint: str = "TutorialHandler",
        returns: dict[str, ReturnCheck] | None = None,
        extend: Callable[[type[WebSocketHandler]], type[WebSocketHandler]] | None = None,
        message_hint: str = "a message is text, send str(...) of it",
    ) -> None:
        if isinstance(handler_class, WebSocketHandler):
            raise NotYet(f"pass the class itself ({type(handler_class).__name__}), not an instance of it")
        if not isinstance(handler_class, type):
            raise NotYet(f"expected a handler class such as {name}, got {describe(handler_class)}")
        if not issubclass(handler_class, base):
            raise NotYet(
                f"{handler_class.__name__} is not a WebSocket handler of the right kind: define it as "
                f"'class {name}({base_hint}):'"
            )
        self.learner = cast("type[WebSocketHandler]", handler_class)
        self.served: type[WebSocketHandler] = extend(self.learner) if extend is not None else self.learner
        self.name = handler_class.__name__
        self._message_hint = message_hint
        self.raised: list[Raised] = []
        self.misuse: list[str] = []
        self.returned: list[str] = []
        self.shadowed: list[str] = []
        # How often on_message returned and write_message was called, and when on_message last returned:
        # a check need not wait its whole timeout for an answer that on_message never sent.
        self._lock = threading.Lock()
        self._handled = 0
        self._writes = 0
        self._last_handled = 0.0
        self._returns = returns or {}
        self.watched = self._subclass()
        self._before = self._class_state()

    # -- the served class --------------------------------------------------------------------

    def _student_classes(self) -> list[type]:
        return [cls for cls in self.learner.__mro__ if not _is_library(cls)]

    def _student_methods(self) -> dict[str, Callable[..., Any]]:
        methods: dict[str, Callable[..., Any]] = {}
        for cls in reversed(self._student_classes()):
            for name, value in vars(cls).items():
                if inspect.isfunction(value) and not (name.startswith("__") and name.endswith("__")):
                    methods[name] = value
        return methods

    def _subclass(self) -> type[WebSocketHandler]:
        probe = self
        learner: type[WebSocketHandler] = self.learner
        served: type[WebSocketHandler] = self.served

        class Watched(served):  # type: ignore[valid-type,misc]
            def write_message(self, message: Any, binary: bool = False) -> Any:
                with probe._lock:
                    probe._writes += 1
                if not isinstance(message, _MESSAGE_TYPES):
                    probe.misuse.append(probe._not_a_message(message))
                    raise TypeError("not a message")  # as Tornado would; the sentence above says what to do
                return super().write_message(message, binary)

        for name in self._student_methods():
            # As the served class resolves it: the check's own subclass may wrap the student's method.
            setattr(Watched, name, self._watch(name, getattr(served, name)))
        Watched.__name__ = Watched.__qualname__ = learner.__name__
        Watched.__module__ = learner.__module__
        return Watched

    def _watch(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        probe = self
        if inspect.iscoroutinefunction(function):

            async def watched_coroutine(handler: Any, *args: Any, **kwargs: Any) -> Any:
                try:
                    result = await function(handler, *args, **kwargs)
                except Exception as error:
                    probe._note_raised(error, name)
                    raise
                return probe._after(handler, name, result)

            return watched_coroutine

        def watched(handler: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                result = function(handler, *args, **kwargs)
            except Exception as error:
                probe._note_raised(error, name)
                raise
            if inspect.isawaitable(result):
                return result
            return probe._after(handler, name, result)

        return watched

    def _note_raised(self, error: Exception, name: str) -> None:
        if not isinstance(error, HTTPError):  # a refusal the handler chose (401 in prepare), not a mistake
            self.raised.append(Raised.of(error, name))

    def _after(self, handler: Any, name: str, result: Any) -> Any:
        if name in ("open", "on_message"):
            self._note_shadowing(handler)
        if name == "on_message":
            with self._lock:
                self._handled += 1
                self._last_handled = time.monotonic()
        check = self._returns.get(name)
        if check is not None:
            sentence = check(result)
            if sentence:
                self.returned.append(sentence)
        elif name == "on_message" and isinstance(result, (str, bytes)):
            # Tornado would try to await the text and log a BadYieldError.
            self.returned.append(
                f"your on_message returned the answer ({describe(result)}) instead of sending it: "
                "use self.write_message(...)"
            )
            return None
        return result

    def _not_a_message(self, message: object) -> str:
        if callable(message) and not isinstance(message, type):
            called = getattr(message, "__name__", "it")
            return (
                f"write_message got the method {called} itself, not its result: call it, with () (e.g. message.{called}())"
            )
        if isinstance(message, (int, float)) and not isinstance(message, bool):
            return f"write_message got {describe(message)}, not text: {self._message_hint}"
        return f"write_message got {describe(message)}: a message is text (a str) or bytes"

    def _note_shadowing(self, handler: Any) -> None:
        for attribute, value in list(vars(handler).items()):
            shared = getattr(type(handler), attribute, None)
            if isinstance(value, _COLLECTIONS) and isinstance(shared, _COLLECTIONS) and value is not shared:
                sentence = (
                    f"your {self.name} gives each connection a {type(value).__name__} of its own "
                    f"(self.{attribute} = ...), so no connection sees the others: use the class's one "
                    f"{type(value).__name__}, self.{attribute}, without assigning to it"
                )
                if sentence not in self.shadowed:
                    self.shadowed.append(sentence)

    # -- an answer that will not come ----------------------------------------------------------

    def mark(self) -> tuple[int, int]:
        """How many messages on_message has handled and how many writes happened, so far."""
        with self._lock:
            return self._handled, self._writes

    def found_cause(self) -> bool:
        """True once the probe knows what is wrong (a sentence :meth:`explain` will give), so waiting longer is pointless."""
        return bool(self.misuse or self.returned or self.shadowed)

    def silent_since(self, mark: tuple[int, int], grace: float = 0.3) -> bool:
        """True when on_message handled a message after ``mark`` and, ``grace`` seconds later, nothing was written
        since (or the probe already knows what is wrong)."""
        if self.found_cause():
            return True
        with self._lock:
            handled, writes, last = self._handled, self._writes, self._last_handled
        return handled > mark[0] and writes == mark[1] and time.monotonic() - last > grace

    # -- what the class looked like ------------------------------------------------------------

    def _classes(self) -> list[type]:
        """Where ``type(self).x = ...`` or ``Handler.x = ...`` may put state: the served classes and the student's."""
        return list(dict.fromkeys([self.watched, self.served, *self._student_classes()]))

    def _class_state(self) -> dict[tuple[type, str], int]:
        state = {}
        for cls in self._classes():
            for attribute, value in vars(cls).items():
                state[(cls, attribute)] = id(value)
        return state

    def class_state_set(self) -> list[str]:
        """Sentences for attributes of the class set while the check ran, that every connection now shares."""
        found = []
        for cls in self._classes():
            for attribute, value in list(vars(cls).items()):
                if self._before.get((cls, attribute)) == id(value) or attribute.startswith("__"):
                    continue
                if isinstance(value, _SHARED_KINDS) or inspect.isfunction(value):
                    continue  # a count or a collection kept for all on purpose
                found.append(
                    f"{self.name}.{attribute} was set on the class, so every connection shares one "
                    f"({describe(value)}): keep it on the connection, self.{attribute} = ..."
                )
        return found

    def misnamed(self) -> list[str]:
        """Sentences for methods named almost like a hook Tornado calls, where the class lacks that hook."""
        own = set(self._student_methods())
        found = []
        for name in own - set(HOOKS):
            close = difflib.get_close_matches(name, HOOKS, n=1, cutoff=0.8)
            if close and close[0] not in own:
                found.append(f"Tornado never calls a method named {name}: name it {close[0]}")
        return found

    # -- the sentence --------------------------------------------------------------------------

    def explain(self, failure: BaseException | None) -> str | None:
        """The sentence naming the cause, or None to keep the check's own.

        ``failure`` None: the check's run passed; state set on the class still makes it "Not yet".
        """
        if failure is None:
            shared = self.class_state_set()
            return shared[0] if shared else None
        for found in (self.returned, self.misuse, self.shadowed, self.class_state_set(), self.misnamed()):
            if found:
                return found[0]
        generic = not isinstance(failure, NotYet) or failure.generic
        if self.raised and generic:
            return self.raised[0].sentence()
        return None
