"""``wss://`` for real: a certificate authority made on this machine (notebook 08).

A browser or a Python client trusts a server's certificate when a
certificate authority (CA) it trusts signed it. On the internet that is a
public CA (e.g. Let's Encrypt); for a tutorial and for tests, ``trustme``
makes a CA of our own, in memory, in milliseconds, with nothing downloaded:
the server gets a certificate signed by it, and only clients told to trust
this CA accept it.

    >>> ca = LocalCA()
    >>> server = start_server(port=0, ssl_context=ca.server_context())
    >>> client = await connect(server.ws_url("/ws"), ssl_context=ca.client_context())
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

import trustme

__all__ = ["LocalCA", "LOCAL_NAMES"]


class _QuietTLSRefusals(logging.Filter):
    """Drop Tornado's "SSL Error on <fd> ..." warnings.

    A refused TLS handshake (an untrusted certificate, ``ws://`` to a TLS
    port) already reaches the client as ``ConnectionFailed`` with a sentence;
    Tornado's warning would be printed from whichever thread noticed it, i.e.
    into a random notebook cell (Jupyter's kernel gives Tornado's loggers a
    handler of its own).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("SSL Error on")


_quiet = _QuietTLSRefusals()
if not any(isinstance(existing, _QuietTLSRefusals) for existing in logging.getLogger("tornado.general").filters):
    logging.getLogger("tornado.general").addFilter(_quiet)

# The names a certificate for this machine is valid for.
LOCAL_NAMES = ("127.0.0.1", "localhost", "::1")


class LocalCA:
    """A certificate authority of our own (never trusted by anything unless told)."""

    def __init__(self) -> None:
        self._ca = trustme.CA(organization_name="wstutorial local CA")

    def issue(self, names: tuple[str, ...] = LOCAL_NAMES) -> trustme.LeafCert:
        """A certificate (and its private key) for ``names``, signed by this CA."""
        return self._ca.issue_cert(*names)

    def server_context(self, names: tuple[str, ...] = LOCAL_NAMES) -> ssl.SSLContext:
        """A TLS context for the server: a certificate for ``names``, signed by this CA."""
        certificate = self.issue(names)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A TLS context for a client that trusts this CA (and checks names, as usual)."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        self._ca.configure_trust(context)
        return context

    @property
    def pem(self) -> bytes:
        """The CA's certificate (PEM), what a browser or ``curl --cacert`` would be told to trust."""
        return self._ca.cert_pem.bytes()

    def write_pem(self, path: str | Path) -> Path:
        """Save the CA's certificate to ``path`` (e.g. for ``curl --cacert``)."""
        target = Path(path)
        target.write_bytes(self.pem)
        return target

    def __repr__(self) -> str:
        return "<LocalCA (made on this machine; trusted only where you configure it)>"
