"""A real nginx in front of the tutorial's server (notebook 08).

    >>> from wstutorial.services.nginxproxy import start_nginx
    >>> proxy = start_nginx(server.port)          # needs nginx installed
    >>> proxy.ws_url("/ws")                       # the proxy's address
    'ws://127.0.0.1:PORT/ws'
    >>> proxy.access_log()                        # what nginx wrote down
    >>> proxy.stop()

The configuration is the repository's ``deploy/nginx/wstutorial.conf``
(shipped inside the package too), with its ``@NAME@`` values filled in.
nginx runs as a child process of this one, listens on a free port of
127.0.0.1, and writes its pid, logs and temporary files into a temporary
folder, so it needs no administrator rights. Running the cell again stops
the nginx the run before started, then starts the new one (its repr says
``replaced``): one nginx per kernel, on a new port.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path
from typing import Sequence

from ..address import free_port, parse_port
from ..packaged import packaged_file
from .local import LocalService, OnePerKey, ServiceError, find_program, start_process, wait_for_port

__all__ = ["NginxProxy", "start_nginx", "config_template", "render_config", "INSTALL_NGINX", "DEFAULT_SERVER_NAMES"]

# The names the tutorial's nginx answers (its address is 127.0.0.1:PORT);
# any other Host is closed unanswered (the configuration's default server).
DEFAULT_SERVER_NAMES = ("localhost", "127.0.0.1")
_SERVER_NAME = re.compile(r"^[A-Za-z0-9.*_-]+$")

INSTALL_NGINX = (
    "on Debian/Ubuntu 'sudo apt-get install nginx', on macOS 'brew install nginx', "
    "with conda 'conda install -c conda-forge nginx'"
)

_TIMEOUT = re.compile(r"^\d+(ms|s|m|h)?$")


def config_template() -> Path:
    """The configuration file: inside the installed package, or ``deploy/`` in a checkout."""
    return packaged_file("deploy/nginx/wstutorial.conf", "nginx's configuration for the tutorial")


def render_config(
    prefix: str | Path, listen: str, backends: str | Sequence[str], read_timeout: str = "1h",
    server_names: Sequence[str] = DEFAULT_SERVER_NAMES,
) -> str:
    """The configuration with its ``@NAME@`` values filled in; ``backends`` are ``host:port`` of the servers.

    ``server_names``: the names (``Host``) nginx passes on; any other is closed unanswered.
    """
    names = [server_names] if isinstance(server_names, str) else list(server_names)
    if not names or not all(isinstance(name, str) and _SERVER_NAME.match(name) for name in names):
        raise ValueError(f"server_names are host names such as 'localhost' or 'classroom.example.org', got {server_names!r}")
    if not _TIMEOUT.match(read_timeout):
        raise ValueError(f"read_timeout is an nginx time such as '60s', '1h' or '500ms', got {read_timeout!r}")
    addresses = [backends] if isinstance(backends, str) else list(backends)
    if not addresses:
        raise ValueError("nginx needs at least one server to pass connections to")
    servers = "\n        ".join(f"server {address};" for address in addresses)
    text = config_template().read_text()
    values = {
        "@PREFIX@": str(prefix), "@LISTEN@": listen, "@SERVERS@": servers, "@READ_TIMEOUT@": read_timeout,
        "@SERVER_NAMES@": " ".join(names),
    }
    for name, value in values.items():
        text = text.replace(name, value)
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        raise ValueError(f"the nginx configuration has values nobody fills in: {sorted(set(left))}")
    return text


class NginxProxy(LocalService):
    """A running nginx; ``url`` / ``ws_url`` are its addresses."""

    name = "nginx"

    def __init__(self, *args: object, tls: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.tls = tls

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}/"

    def ws_url(self, path: str = "/ws") -> str:
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        return f"{'wss' if self.tls else 'ws'}://{self.host}:{self.port}{path}"

    @property
    def config_path(self) -> Path:
        return self.folder / "nginx.conf"

    def access_log(self) -> list[str]:
        """The lines of nginx's access log so far (one per request, written when it ends)."""
        log = self.folder / "access.log"
        return log.read_text(errors="replace").splitlines() if log.is_file() else []

    def wait_for_log(self, text: str, timeout: float = 10.0) -> str:
        """The first access-log line containing ``text``, once nginx has written it.

        nginx writes a WebSocket's line when the connection has ended, a
        moment after the client saw the close: this waits (up to
        ``timeout`` seconds) instead of reading too early.
        """
        deadline = time.monotonic() + timeout
        while True:
            for line in self.access_log():
                if text in line:
                    return line
            if time.monotonic() > deadline:
                raise TimeoutError(f"nginx logged no request containing {text!r} within {timeout} s")
            time.sleep(0.02)


# The nginx that start_nginx(replace=True) started last, for a re-run cell to replace.
_started: OnePerKey[NginxProxy] = OnePerKey()


def start_nginx(
    backend_port: int | Sequence[int],
    *,
    backend_host: str = "127.0.0.1",
    read_timeout: str = "1h",
    certificate: "object | None" = None,
    server_names: Sequence[str] = DEFAULT_SERVER_NAMES,
    timeout: float = 10.0,
    replace: bool = True,
) -> NginxProxy:
    """Start nginx on a free port of 127.0.0.1, passing everything on to ``backend_host:backend_port``.

    Args:
        backend_port: the port of the Tornado server behind it, or a list of
            ports: one per server process, nginx spreads new connections over
            them (``least_conn``: to the one with the fewest open connections).
        read_timeout: nginx's ``proxy_read_timeout`` (e.g. ``"1h"``, ``"2s"``).
        certificate: a ``trustme`` certificate (``LocalCA.issue``) to serve
            https:// and wss:// with; None for http:// and ws://.
        server_names: the names nginx answers (``server_name``); a request
            for any other ``Host`` is closed without an answer (444).
        replace: first stop the nginx that an earlier ``start_nginx`` of
            this process started (a re-run notebook cell: the servers behind
            it are new too, so it is not reused); the new one gets a new port
            and its repr says ``replaced``. False to run several at once.

    Raises:
        ServiceMissing: nginx is not installed (the message says how to install it).
        ServiceError: nginx did not start (the message shows its error log).
    """
    program = find_program("nginx", INSTALL_NGINX)
    ports = [backend_port] if isinstance(backend_port, int) else list(backend_port)
    backends = [f"{backend_host}:{parse_port(port)}" for port in ports]
    note = ""
    previous = _started.pop("nginx") if replace else None
    if previous is not None and previous.running:
        previous.stop()
        note = f"replaced the nginx on {previous.host}:{previous.port}, which is stopped"
    folder = tempfile.TemporaryDirectory(prefix="wstutorial-nginx-")
    prefix = Path(folder.name)
    host, port = "127.0.0.1", free_port()
    tls_lines = ""
    if certificate is not None:
        pem = prefix / "server.pem"
        certificate.private_key_and_cert_chain_pem.write_to_path(str(pem))  # type: ignore[attr-defined]
        tls_lines = f"ssl_certificate {pem};\nssl_certificate_key {pem};\n"
    (prefix / "tls.conf").write_text(tls_lines)
    listen = f"{host}:{port}" + (" ssl" if certificate is not None else "")
    config = prefix / "nginx.conf"
    config.write_text(render_config(prefix, listen, backends, read_timeout, server_names))
    # -e: nginx opens its error log before reading the configuration; the
    # default one (/var/log/nginx) is not writable for a normal user.
    args = [program, "-p", f"{prefix}/", "-c", str(config), "-e", str(prefix / "error.log")]
    process = start_process(args, folder, "nginx.out")
    try:
        wait_for_port(host, port, process, timeout, prefix / "error.log")
    except BaseException:
        process.kill()
        process.wait()
        folder.cleanup()
        raise
    proxy = NginxProxy(process, folder, host, port, tls=certificate is not None)
    proxy.note = note
    if replace:
        _started.put("nginx", proxy)
    return proxy


def check_config() -> str:
    """Run ``nginx -t`` on the repository's configuration; returns nginx's verdict, raises if it fails."""
    import subprocess

    program = find_program("nginx", INSTALL_NGINX)
    with tempfile.TemporaryDirectory(prefix="wstutorial-nginx-test-") as prefix:
        (Path(prefix) / "tls.conf").write_text("")
        config = Path(prefix) / "nginx.conf"
        config.write_text(render_config(prefix, f"127.0.0.1:{free_port()}", "127.0.0.1:8888"))
        result = subprocess.run(
            [program, "-t", "-p", f"{prefix}/", "-c", str(config), "-e", f"{prefix}/error.log"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    if result.returncode != 0:
        raise ServiceError(f"nginx -t rejected deploy/nginx/wstutorial.conf: {result.stderr.strip()}")
    return result.stderr.strip()
