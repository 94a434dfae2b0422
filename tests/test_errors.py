"""The package's own errors: one sentence in IPython and Jupyter, an ordinary exception everywhere else."""

from __future__ import annotations

import traceback

import pytest
from IPython.core.interactiveshell import InteractiveShell

import wstutorial
from wstutorial.address import free_port, parse_port
from wstutorial.errors import Explained


def test_the_rendering_is_the_class_in_red_and_the_sentence() -> None:
    """_render_traceback_ gives one line: the error's class name (in red) and its message, nothing else."""
    with pytest.raises(wstutorial.InvalidAddress) as caught:
        parse_port(70000)
    assert caught.value._render_traceback_() == [
        "\x1b[0;31mInvalidAddress\x1b[0m: port must be from 0 to 65535, got 70000"
    ]


def test_a_subclass_is_named_by_its_own_class() -> None:
    """The shown name is the raised class's, not the mixin's nor the base exception's."""

    class PortTooLow(Explained, ValueError):
        pass

    assert PortTooLow("use a port from 1024 up")._render_traceback_() == [
        "\x1b[0;31mPortTooLow\x1b[0m: use a port from 1024 up"
    ]


def test_outside_ipython_it_is_an_ordinary_exception_with_its_traceback() -> None:
    """Still the built-in kind it extends (caught as ValueError), and Python's own traceback lists where it came from."""
    with pytest.raises(ValueError, match="got 'abc'") as caught:
        parse_port("abc")
    text = "".join(traceback.format_exception(caught.value))
    assert text.startswith("Traceback (most recent call last):")
    assert "address.py" in text and "in parse_port" in text
    assert text.rstrip().endswith(
        "wstutorial.address.InvalidAddress: port must be a whole number from 0 to 65535, got 'abc' (use 0 to pick a free port)"
    )


def test_ipython_shows_a_client_error_as_its_sentence_alone(capsys: pytest.CaptureFixture[str]) -> None:
    """In IPython a failed connect_blocking shows one line naming the address and what to check, no traceback."""
    port = free_port()
    shell = InteractiveShell.instance()
    try:
        result = shell.run_cell(f"import wstutorial\nwstutorial.connect_blocking('ws://127.0.0.1:{port}/ws', timeout=5)")
        shown = capsys.readouterr().out
    finally:
        InteractiveShell.clear_instance()
    assert isinstance(result.error_in_exec, wstutorial.ConnectionFailed)
    assert shown.strip().splitlines() == [
        f"\x1b[0;31mConnectionFailed\x1b[0m: could not connect to ws://127.0.0.1:{port}/ws: nothing is listening on "
        f"127.0.0.1:{port} (connection refused); is the server started, and is the port right?"
    ]
