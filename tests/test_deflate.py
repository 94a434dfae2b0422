"""permessage-deflate's negotiation and compression (deflate.py), checked against the websockets library's client side.

The server's answer to each offer must be one the ``websockets`` client
accepts (its ``process_response_params`` raises on anything RFC 7692 does
not allow), and what the server compresses must inflate with the
``websockets`` library's own decoder.
"""

from __future__ import annotations

import os
import zlib

import pytest
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Frame, Opcode

from wstutorial.deflate import EMPTY_BLOCK, deflate_message, negotiate, parse_extensions


def test_parse_extensions() -> None:
    """RFC 6455 section 9.1: offers separated by commas, parameters by semicolons, values as tokens or quoted."""
    assert parse_extensions("permessage-deflate; client_max_window_bits, permessage-deflate") == [
        ("permessage-deflate", [("client_max_window_bits", None)]),
        ("permessage-deflate", []),
    ]
    assert parse_extensions(' x-foo ;a=1 ; b="two \\"2\\""') == [("x-foo", [("a", "1"), ("b", 'two "2"')])]
    assert parse_extensions("") == []
    for malformed in ("permessage-deflate;", "; a", "permessage-deflate; a=", "a b", 'a; b="open'):
        assert parse_extensions(malformed) == [], malformed


# (offer, what the websockets client would have said to offer it, the response's last parameter, client's window, server's window)
OFFERS = [
    # Chromium's and Firefox's offer
    ("permessage-deflate; client_max_window_bits", {"client_max_window_bits": True}, "client_max_window_bits=12", 12, 12),
    ("permessage-deflate", {"client_max_window_bits": None}, "", 15, 12),
    ("permessage-deflate; server_max_window_bits=10", {"server_max_window_bits": 10, "client_max_window_bits": None}, "", 15, 10),
    ("permessage-deflate; server_max_window_bits=15; client_max_window_bits=9", {"server_max_window_bits": 15, "client_max_window_bits": 9}, "client_max_window_bits=9", 9, 12),
    ("permessage-deflate; client_max_window_bits=15", {"client_max_window_bits": 15}, "client_max_window_bits=12", 12, 12),
    (
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        {"server_no_context_takeover": True, "client_no_context_takeover": True, "client_max_window_bits": None},
        "",
        15,
        12,
    ),
    ('permessage-deflate; server_max_window_bits="9"', {"server_max_window_bits": 9, "client_max_window_bits": None}, "", 15, 9),
    # websockets declines 8 (zlib cannot compress with it); we accept and send uncompressed.
    ("permessage-deflate; server_max_window_bits=8", {"server_max_window_bits": 8, "client_max_window_bits": None}, "", 15, 8),
    # the first offer that can be accepted (RFC 7692 section 5), skipping the others
    (
        "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=16, permessage-deflate; mystery=1, permessage-deflate; client_max_window_bits=10",
        {"client_max_window_bits": 10},
        "client_max_window_bits=10",
        10,
        12,
    ),
]


@pytest.mark.parametrize(("offer", "client", "extra", "client_bits", "server_bits"), OFFERS)
def test_each_offer_gets_an_answer_the_websockets_client_accepts(
    offer: str, client: dict[str, object], extra: str, client_bits: int, server_bits: int
) -> None:
    deflate = negotiate(offer)
    assert deflate is not None
    expected = f"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits={server_bits}"
    assert deflate.response == expected + (f"; {extra}" if extra else "")
    assert (deflate.client_window_bits, deflate.server_window_bits, deflate.compresses) == (client_bits, server_bits, server_bits > 8)
    # The websockets client, had it made this offer, accepts the answer (it raises on anything RFC 7692 forbids).
    factory = ClientPerMessageDeflateFactory(**client)  # type: ignore[arg-type]
    factory.process_response_params(parse_extensions(deflate.response)[0][1], [])


@pytest.mark.parametrize(
    "offer",
    [
        None,
        "",
        "x-webkit-deflate-frame",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_max_window_bits; client_max_window_bits",
        "permessage-deflate; unknown",
        "permessage-deflate;",
    ],
)
def test_offers_that_cannot_be_accepted_get_no_compression(offer: str | None) -> None:
    assert negotiate(offer) is None


def test_what_the_server_compresses_inflates_with_the_websockets_decoder() -> None:
    """deflate_message's output (no context takeover) read back by the websockets library's PerMessageDeflate."""
    from websockets.extensions.permessage_deflate import PerMessageDeflate

    for payload in (b"", b"x", "κόσμε ".encode() * 2000, os.urandom(70_000)):
        for bits in (9, 12, 15):
            decoder = PerMessageDeflate(True, True, bits, 15)  # remote (the server) resets after each message
            frame = Frame(Opcode.TEXT, deflate_message(payload, bits), rsv1=True)
            assert decoder.decode(frame).data == payload
            inflater = zlib.decompressobj(wbits=-bits)
            assert inflater.decompress(deflate_message(payload, bits) + EMPTY_BLOCK) == payload
