"""permessage-deflate (RFC 7692) without I/O: what a server agrees to, and one message compressed.

The negotiation follows the ``websockets`` library's server side
(``ServerPerMessageDeflateFactory.process_request_params``, with its
defaults: 12-bit windows, ``memLevel`` 5), with two choices of our own:

- The server asks for no context takeover in both directions
  (``server_no_context_takeover`` and ``client_no_context_takeover``, which
  RFC 7692 sections 7.1.1.1 and 7.1.1.2 let a server add to any offer it
  accepts). Each message is then compressed on its own, so a broadcast is
  compressed once and the same bytes go to every client (``server/frames.py``),
  and an idle connection keeps no compression state: a decompressor lives
  only while a compressed message arrives, a compressor while one is built.
- An offer of ``server_max_window_bits=8`` is accepted (``websockets``
  declines it: zlib cannot compress with an 8-bit window); the server then
  sends that client its messages uncompressed, which RFC 7692 allows (the
  RSV1 bit says, message by message, whether it is compressed).

Messages shorter than ``MIN_COMPRESSED_SIZE`` are sent as they are: on its
own, a short message does not shrink.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import zlib

__all__ = [
    "Deflate",
    "MIN_COMPRESSED_SIZE",
    "WINDOW_BITS",
    "deflate_message",
    "negotiate",
    "parse_extensions",
]

# The server's window, and the largest it allows the client (websockets' defaults).
WINDOW_BITS = 12
MEM_LEVEL = 5
# As the Node.js library ws does (its `threshold`): a message under 1 KiB is sent uncompressed.
MIN_COMPRESSED_SIZE = 1024
# What RFC 7692 section 7.2.1 has the sender remove from the end of a message, and the receiver add back.
EMPTY_BLOCK = b"\x00\x00\xff\xff"

_TOKEN = r"[-!#$%&'*+.^_`|~0-9A-Za-z]+"
_EXTENSION = re.compile(rf"\s*({_TOKEN})")
_PARAMETER = re.compile(rf'\s*;\s*({_TOKEN})(?:\s*=\s*(?:({_TOKEN})|"((?:[^"\\]|\\.)*)"))?')
_SEPARATOR = re.compile(r"\s*(,|$)")
_WINDOW_VALUES = {str(bits): bits for bits in range(8, 16)}


@dataclasses.dataclass(frozen=True, slots=True)
class Deflate:
    """What one connection agreed on; both sides start afresh with every message.

    ``client_window_bits``: the window of the client's compressed messages
    (15 unless the response limited it); ``server_window_bits``: the window
    ours may use (8: we send uncompressed); ``response``: the
    ``Sec-WebSocket-Extensions`` header of the 101 response.
    """

    client_window_bits: int
    server_window_bits: int
    response: str

    @property
    def compresses(self) -> bool:
        """Whether the server compresses what it sends (zlib cannot with an 8-bit window)."""
        return self.server_window_bits >= 9


def parse_extensions(header: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """The offers of a ``Sec-WebSocket-Extensions`` header (RFC 6455 section 9.1), in order; [] if malformed.

    ``"permessage-deflate; client_max_window_bits, x"`` gives
    ``[("permessage-deflate", [("client_max_window_bits", None)]), ("x", [])]``.
    """
    offers: list[tuple[str, list[tuple[str, str | None]]]] = []
    pos = 0
    while pos < len(header):
        name = _EXTENSION.match(header, pos)
        if name is None:
            return []
        params: list[tuple[str, str | None]] = []
        pos = name.end()
        while (param := _PARAMETER.match(header, pos)) is not None:
            quoted = param.group(3)
            value = param.group(2) if quoted is None else re.sub(r"\\(.)", r"\1", quoted)
            params.append((param.group(1), value))
            pos = param.end()
        separator = _SEPARATOR.match(header, pos)
        if separator is None:
            return []
        offers.append((name.group(1), params))
        pos = separator.end()
    return offers


def _accept(params: list[tuple[str, str | None]]) -> Deflate:
    """The answer to one permessage-deflate offer; ``ValueError`` if it cannot be accepted (RFC 7692 section 7.1)."""
    seen: dict[str, str | None] = {}
    for name, value in params:
        if name in seen:
            raise ValueError(f"{name} given twice")
        if name in ("server_no_context_takeover", "client_no_context_takeover"):
            if value is not None:
                raise ValueError(f"{name} takes no value, got {value!r}")
        elif name == "server_max_window_bits" or (name == "client_max_window_bits" and value is not None):
            if value not in _WINDOW_VALUES:
                raise ValueError(f"{name} must be 8 to 15, got {value!r}")
        elif name != "client_max_window_bits":
            raise ValueError(f"unknown parameter {name!r}")
        seen[name] = value
    # At most our window, or the smaller one the client asks for.
    server_bits = min(WINDOW_BITS, _WINDOW_VALUES.get(seen.get("server_max_window_bits") or "", WINDOW_BITS))
    response = f"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits={server_bits}"
    client_bits = 15
    if "client_max_window_bits" in seen:
        # The client said it can use a smaller window: at most ours, or its own hint.
        client_bits = min(WINDOW_BITS, _WINDOW_VALUES.get(seen["client_max_window_bits"] or "", WINDOW_BITS))
        response += f"; client_max_window_bits={client_bits}"
    return Deflate(client_window_bits=client_bits, server_window_bits=server_bits, response=response)


@functools.lru_cache(maxsize=64)
def negotiate(header: str | None) -> Deflate | None:
    """What to agree to for a handshake's ``Sec-WebSocket-Extensions`` (all its lines joined with commas).

    The first permessage-deflate offer that can be accepted, as RFC 7692
    section 5 asks; None: no compression (no offer, or none acceptable).
    Remembered for the last few headers: every browser of a kind sends the
    same offer, and its connections share one (immutable) answer.
    """
    for name, params in parse_extensions(header or ""):
        if name == "permessage-deflate":
            try:
                return _accept(params)
            except ValueError:
                continue
    return None


def deflate_message(payload: bytes, window_bits: int) -> bytes:
    """``payload`` compressed on its own, as the payload of a permessage-deflate message (RFC 7692 section 7.2.1).

    The sender flushes with ``Z_SYNC_FLUSH`` and removes the empty block it
    ends with (``EMPTY_BLOCK``); the receiver appends it again.
    """
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -window_bits, MEM_LEVEL)
    data = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4]
