"""The command line: ``python -m wstutorial serve``, ``check``, ``lab``, ``classroom``, ``wheelhouse``, ``rehearse`` and ``notes``.

Bad arguments print one line and exit 2; a server that cannot start prints
one line and exits 1; never a traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NoReturn, Protocol, Sequence

from .address import InvalidAddress, is_loopback, lan_addresses, parse_host, parse_port
from .events import EventLog
from .server.options import ServerOptions
from .server.runner import ServerError, TutorialServer, start_server
from .server.worker import stop_signals

if TYPE_CHECKING:
    from .classroom.server import Classroom

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: the message names the bad value.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _port(text: str) -> int:
    try:
        return parse_port(text)
    except InvalidAddress as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _host(text: str) -> str:
    try:
        return parse_host(text)
    except InvalidAddress as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _duration(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0001 <= value <= 86400:  # also false for nan
        raise argparse.ArgumentTypeError(
            f"duration must be a number of seconds from 0.0001 to 86400, got {text!r}"
        )
    return value


def _setting_value(name: str, kind: type, in_list: bool = False) -> Callable[[str], Any]:
    """The type of a setting's flag: ``kind(text)``, checked by ServerOptions (its message names the value).

    ``in_list``: the value is one of the setting's list, checked as a list of one.
    """

    def convert(text: str) -> Any:
        try:
            value: Any = kind(text)
        except ValueError:
            value = text  # ServerOptions' check says what it must be, naming the text
        setting: dict[str, Any] = {name: (value,) if in_list else value}
        try:
            ServerOptions(**setting)
        except (TypeError, ValueError) as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return value

    return convert


def add_setting_arguments(parser: argparse.ArgumentParser, names: Sequence[str], defaults: ServerOptions) -> None:
    """A flag for each of these ServerOptions settings, e.g. ``--interval``: its default, help and check are the field's.

    A list setting takes one value per flag, named in the singular
    (``--allowed-origin ORIGIN``, repeated); a setting that is off by default, none
    (``--xheaders``).
    """
    for name in names:
        default = getattr(defaults, name)
        flag = "--" + name.replace("_", "-")
        text = ServerOptions.help(name).replace("``", "'")
        if isinstance(default, bool):
            parser.add_argument(flag, action="store_true", dest=name, help=text)
        elif isinstance(default, tuple):
            parser.add_argument(
                flag.removesuffix("s"), action="append", dest=name, default=list(default), type=_setting_value(name, str, in_list=True),
                metavar=name.split("_")[-1].removesuffix("s").upper(), help=f"{text} (repeat for several)",
            )
        else:
            parser.add_argument(flag, type=_setting_value(name, type(default)), default=default, help=f"{text} (default {default:g})")


def setting_arguments(args: argparse.Namespace, names: Sequence[str]) -> dict[str, Any]:
    """The values of :func:`add_setting_arguments`' flags, as keywords of start_server."""
    return {name: getattr(args, name) for name in names}


# The settings each command takes as flags.
SERVE_SETTINGS = ("interval",)
CLASSROOM_SETTINGS = ("interval", "allowed_origins", "xheaders")


def add_server_arguments(parser: argparse.ArgumentParser, default_host: str = "127.0.0.1") -> None:
    """--host and --port, shared by every command that starts a server."""
    parser.add_argument(
        "--host",
        type=_host,
        default=default_host,
        help=f"address to listen on (default {default_host}; 0.0.0.0 lets other machines connect)",
    )
    parser.add_argument(
        "--port", type=_port, default=None, help="port to listen on (default $WSTUTORIAL_PORT or 8888; 0 picks a free one)"
    )


def _workers(text: str) -> int:
    from .server.cluster import MAX_WORKERS

    if not text.isdigit() or not 1 <= int(text) <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"workers must be a whole number from 1 to {MAX_WORKERS}, got {text!r}")
    return int(text)


def _room(text: str) -> str:
    from .classroom.store import validate_room_name

    try:
        return validate_room_name(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 24 * 60:  # also false for nan
        raise argparse.ArgumentTypeError(f"stuck-after must be a number of minutes from 0 to 1440, got {text!r}")
    return value


def _classroom_workers(text: str) -> int:
    from .server.cluster import MAX_WORKERS

    if not text.isdigit() or not 0 <= int(text) <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"workers must be a whole number from 0 to {MAX_WORKERS}, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m wstutorial", description="The WebSockets tutorial with Tornado.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    serve = commands.add_parser("serve", help="run the tutorial's server until Ctrl-C")
    add_server_arguments(serve)
    add_setting_arguments(serve, SERVE_SETTINGS, ServerOptions())
    serve.add_argument("--quiet", action="store_true", help="do not print the server's events")
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="server processes (default 1); several broadcast to each other through Redis (notebook 09)",
    )
    serve.add_argument(
        "--redis",
        metavar="URL",
        default=None,
        help="the Redis for --workers, e.g. redis://127.0.0.1:6379/0 (default: start redis-server on a free port)",
    )
    serve.set_defaults(run=run_serve)
    check = commands.add_parser("check", help="check that this machine is ready for the tutorial")
    check.add_argument(
        "-v", "--verbose", action="store_true",
        help="one line per package of the notebook part (default: one line while all are fine)",
    )
    check.set_defaults(run=run_check)
    add_lab_command(commands)
    add_classroom_command(commands)
    add_rehearse_command(commands)
    add_notes_command(commands)
    return parser


def print_addresses(server: TutorialServer, out: Callable[[str], None] = print) -> None:
    """The addresses to open or type, and a warning when others can connect."""
    out(f"Serving the WebSocket tutorial at {server.url}")
    out(f"  pages:      {server.page_url('hello.html')}  {server.page_url('streaming.html')}")
    out(f"  WebSockets: {server.ws_url('/ws')}  {server.ws_url('/streaming')}  {server.ws_url('/echo')}")
    if not is_loopback(server.host):
        out(
            f"Warning: listening on {server.host}: anyone on your network can connect to this server."
        )
        urls = server.lan_urls("/")
        for url in urls:
            out(f"  from other machines: {url}")
        if not urls:
            out(
                f"  from other machines: http://<this machine's address>:{server.port}/ "
                "(no network address found; see 'hostname -I' or 'ipconfig')"
            )


def already_stopping(signum: int, frame: object) -> None:
    print("Already stopping; a few seconds at most.", flush=True)


class _Stoppable(Protocol):
    """A server or a cluster: events to print, and a stop that returns how many clients it closed."""

    @property
    def events(self) -> EventLog: ...

    def stop(self) -> int: ...


def serve_until_interrupted(server: _Stoppable, quiet: bool) -> int:
    """Print events (from this, the main thread) until Ctrl-C, Ctrl-Break or SIGTERM; then stop."""
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop_requested.set()
        raise KeyboardInterrupt

    # Python leaves Ctrl-C ignored when it started ignored (a job started
    # with '&' by a script): take it over, so Ctrl-C (SIGINT) always stops.
    # signal.signal() with these works on Windows too, where Ctrl-Break is SIGBREAK.
    previous = {number: signal.signal(number, request_stop) for number in stop_signals()}
    try:
        try:
            # Inside the try: a Ctrl-C that comes right after this line is still a clean stop.
            print("Press Ctrl-C to stop.", flush=True)
            # From the log's first event: a client may connect between the
            # moment the port opened and this line, and its "new connection"
            # must be printed too (the tutorial's very first line).
            for event in server.events.follow(after=0):
                if not quiet:
                    print(event, flush=True)
        except KeyboardInterrupt:
            pass
        finally:
            # A second Ctrl-C while the clients are being closed only says so:
            # stop() must finish (1001 to every client, the port freed) without a traceback.
            for number in previous:
                signal.signal(number, already_stopping)
            print("Stopping: closing every client with 1001 (going away)...", flush=True)
            closed = server.stop()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    print(f"Stopped: {closed} WebSocket client(s) closed with 1001 (going away).", flush=True)
    return EXIT_OK


def run_serve(args: argparse.Namespace) -> int:
    if args.workers > 1 or args.redis:
        return run_cluster(args)
    server = start_server(args.host, args.port, **setting_arguments(args, SERVE_SETTINGS))
    print_addresses(server)
    return serve_until_interrupted(server, args.quiet)


def run_cluster(args: argparse.Namespace) -> int:
    """``serve --workers N``: N server processes, one broadcast through Redis (notebook 09)."""
    from .server.cluster import start_cluster
    from .services import ServiceError

    if importlib.util.find_spec("redis") is None:  # the lean install has no Redis client
        print("error: serve --workers needs the Python package 'redis': pip install 'wstutorial[notebook]'", file=sys.stderr)
        return EXIT_FAILURE

    try:
        cluster = start_cluster(
            args.workers, args.redis, host=args.host, port=args.port or 0, **setting_arguments(args, SERVE_SETTINGS)
        )
    except (ServiceError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"Serving the WebSocket tutorial with {len(cluster.workers)} processes, broadcasting through Redis at {cluster.redis_url}")
    for worker in cluster.workers:
        print(f"  {worker.name} (pid {worker.process.pid}): {worker.ws_url('/ws')}  {worker.ws_url('/updates')}")
    if not is_loopback(args.host):
        print(f"Warning: listening on {args.host}: anyone on your network can connect to these servers.")
    print("A broadcast to every /updates client of every process, from any program:")
    print(f"  python -c \"from wstutorial.server.relay import publish; print(publish('{cluster.redis_url}', '/updates', 'hello'))\"")
    return serve_until_interrupted(cluster, args.quiet)


def add_classroom_command(commands: "argparse._SubParsersAction[_Parser]") -> None:
    """``classroom``: one server for a class, with the chat room and the teacher's page."""
    from .classroom.server import CLASSROOM_OPTIONS

    classroom = commands.add_parser(
        "classroom", help="run one server for a class: chat room, teacher page, stream (until Ctrl-C)"
    )
    # A classroom server exists for other machines to reach, so it listens on
    # every interface unless told otherwise; it says so loudly when it starts.
    add_server_arguments(classroom, default_host="0.0.0.0")
    classroom.add_argument("--quiet", action="store_true", help="do not print the server's events")
    classroom.add_argument(
        "--wheels", metavar="DIR", default=None,
        help="serve this wheelhouse (python -m wstutorial wheelhouse DIR) at /wheels/ for the students' pip",
    )
    classroom.add_argument(
        "--workers", type=_classroom_workers, default=0,
        help="also start N processes that hold students' connections, on ports PORT+1..PORT+N; "
        "the room and the teacher page stay in this one (default 0: one process)",
    )
    classroom.add_argument(
        "--redis", metavar="URL", default=None,
        help="the Redis for --workers, e.g. redis://127.0.0.1:6379/0 (default: start redis-server on a free port)",
    )
    classroom.add_argument(
        "--room", type=_room, default=None, metavar="NAME",
        help="the room: its board and teacher token are kept under this name (default: class; "
        "a rehearsal's simulated students join only a room called rehearsal)",
    )
    classroom.add_argument(
        "--data-dir", metavar="DIR", default=None,
        help="where rooms are kept, one SQLite file each (default: $WSTUTORIAL_DATA_DIR, else wstutorial/classroom "
        "in the per-user data folder, see 'jupyter --data-dir')",
    )
    classroom.add_argument(
        "--fresh", action="store_true",
        help="start a fresh class: the room's earlier file is moved aside (renamed with the date), a new token is made",
    )
    classroom.add_argument(
        "--export", metavar="FILE.csv", default=None,
        help="write the room's board as CSV (student, exercise, passed, reason, time; - for the terminal) and exit; "
        "starts no server",
    )
    classroom.add_argument(
        "--stuck-after", type=_minutes, default=5.0, metavar="MINUTES",
        help="mark a student stuck after this many minutes without a pass on the current exercise (default 5)",
    )
    # Gone: the board is kept by default now. A sentence instead of argparse's "unrecognized arguments".
    classroom.add_argument("--board-file", default=None, help=argparse.SUPPRESS)
    add_setting_arguments(classroom, CLASSROOM_SETTINGS, CLASSROOM_OPTIONS)
    classroom.set_defaults(run=run_classroom)
    add_wheelhouse_command(commands)


def add_wheelhouse_command(commands: "argparse._SubParsersAction[_Parser]") -> None:
    """``wheelhouse DIR``: download every wheel the students need, for their platforms."""
    wheelhouse = commands.add_parser(
        "wheelhouse", help="download every wheel the class needs into DIR (then: classroom --wheels DIR)"
    )
    wheelhouse.add_argument("folder", metavar="DIR", help="folder for the wheels (created if needed)")
    wheelhouse.add_argument(
        "--platform", action="append", dest="platforms", metavar="NAME",
        help="this, windows, macos-arm64 (macOS 11+), macos-x86_64 (macOS 10.15+), linux-x86_64, linux-aarch64 "
        "(glibc 2.28+); repeat for several (default: all but this)",
    )
    wheelhouse.add_argument(
        "--python-version", action="append", dest="pythons", metavar="X.Y[.Z]",
        help="the students' Python versions: 3.12 for every 3.12.x (pip's Requires-Python checked for the oldest), "
        "3.12.4 for that release; repeat for several (default: 3.11, 3.12, 3.13)",
    )
    wheelhouse.add_argument(
        "--with", action="append", dest="also", default=[], metavar="REQUIREMENT",
        help="another package to include, e.g. --with nbval (repeat for several)",
    )
    wheelhouse.set_defaults(run=run_wheelhouse)


def run_wheelhouse(args: argparse.Namespace) -> int:
    try:
        from .tools.wheelhouse import DEFAULT_PLATFORMS, DEFAULT_PYTHONS, WheelhouseError, build_wheelhouse
    except ImportError as error:  # the lean install has no 'packaging'
        print(f"error: {error}; install the notebook part first: python -m pip install \"wstutorial[notebook]\"", file=sys.stderr)
        return EXIT_FAILURE
    try:
        failed = build_wheelhouse(
            Path(args.folder),
            platforms=args.platforms or DEFAULT_PLATFORMS,
            pythons=args.pythons or DEFAULT_PYTHONS,
            also=args.also,
        )
    except (WheelhouseError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    if failed:
        print(f"Incomplete: {len(failed)} of the targets cannot install from {args.folder}:", file=sys.stderr)
        for shortfall in failed:
            print(f"  {shortfall.sentence}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"Done. Serve it to the class: python -m wstutorial classroom --wheels {args.folder}")
    return EXIT_OK


def print_classroom_addresses(
    classroom: "Classroom", out: Callable[[str], None] = print, wheels: str | None = None
) -> None:
    """What students type (LAN addresses), and the teacher's secret page (this terminal only)."""
    server = classroom.server
    out(f"Classroom server for the WebSocket tutorial, port {server.port}")
    if server.exposed:
        out(f"Warning: listening on {server.host}: anyone on your network can connect to this server.")
        hosts = lan_addresses() if server.host in ("0.0.0.0", "", "::") else [server.host]
        if not hosts:
            out("  No network address found for this machine: check the network (ip addr) and use its address below.")
            hosts = ["<this machine's address>"]
    else:
        out(f"Listening on {server.host} only: just this machine can connect (use --host 0.0.0.0 for a class).")
        hosts = ["localhost"]
    if server.options.xheaders and server.exposed:
        out(
            f"Warning: --xheaders while listening on {server.host}: a client that reaches these ports directly "
            "can claim any address; with a proxy in front, use --host 127.0.0.1."
        )
    out("Students type into the notebook's ClientPanel:")
    for host in hosts:
        out(f"  host {host}   port {server.port}   uri /chat?name=YourName   (the stream: uri /streaming)")
    out("or open in a browser:")
    for host in hosts:
        out(f"  http://{host}:{server.port}/chat.html")
    out("Teacher page, on this machine (progress board, who is connected; it shows students the addresses above")
    out("and hides its token from the address bar, but do not project this terminal or share the address):")
    out(f"  {classroom.teacher_url}")
    print_room_kept(classroom, out, at_start=True)
    if classroom.workers:
        out(f"Or spread the class over {len(classroom.workers)} worker processes (same chat room, through Redis at {classroom.cluster.redis_url}):")
        for worker in classroom.workers:
            for host in hosts:
                out(f"  {worker.name} (pid {worker.process.pid}): host {host}   port {worker.port}   http://{host}:{worker.port}/chat.html")
        out("  e.g. half of the class on each port, or one address for all: nginx in front (deploy/nginx/wstutorial.conf,")
        out("  its upstream listing these ports; the teacher page stays on port " f"{server.port} only)")
    out("The students' one-page handout (install line, HOST and PORT, names, what to do when stuck): print or project it")
    for host in hosts:
        out(f"  http://{host}:{server.port}/handout")
    if classroom.room.rehearsal_room:
        out(f"A rehearsal's room: run the simulated class with python -m wstutorial rehearse --port {server.port}")
        out("  (add --teacher-url '<the teacher page above>' and the report also gives the teacher page's lag)")
    else:
        out("Rehearse before class in a room of its own (simulated students are refused here):")
        out(f"  python -m wstutorial classroom --room rehearsal --port {server.port}, then python -m wstutorial rehearse --port {server.port}")
    out("Your notes for the class (plan, what to project, common errors): python -m wstutorial notes")
    if wheels:
        from .classroom.wheels import student_install_command

        served = " and every worker's port" if classroom.workers else ""
        out(f"Students install the tutorial from this machine only (wheels from {wheels}, at /wheels/ on this port{served}):")
        for host in hosts:
            out(f"  {student_install_command(f'http://{host}:{server.port}')}")
        out('  (Windows: py -m pip ... instead of python -m pip ...; then: python -m wstutorial lab)')
        unserved = _unserved_platforms(wheels)
        for line in unserved:
            out(f"Warning: {line}")
        if unserved:
            out(f"  Make the folder complete before class: python -m wstutorial wheelhouse {wheels}")


def _unserved_platforms(wheels: str) -> list[str]:
    """The lines for the platforms a wheel folder cannot serve (nothing said without 'packaging', the lean install)."""
    try:
        from .tools.wheelhouse import unserved_platforms
    except ImportError:
        return []
    return unserved_platforms(Path(wheels))


def print_room_kept(classroom: "Classroom", out: Callable[[str], None] = print, at_start: bool = False) -> None:
    """Where the room's board and token are kept, and how many students and results it holds."""
    from .wording import count

    board = classroom.room.board
    where = classroom.data_file
    if where is None:
        return
    room = classroom.room.room_name
    results = sum(len(student.results) for student in board.students.values())
    held = f"{count(len(board.students), 'student')}, {count(results, 'result')}"
    if at_start:
        moved = classroom.store.moved_to if classroom.store is not None else None
        if moved is not None:
            out(f"A fresh class: the previous one's board is kept in {moved}")
        out(f"Room {room!r}: board and teacher token kept in {where} ({held}); a fresh class: --fresh")
    else:
        out(f"Room {room!r} kept in {where} ({held}).")
        out(f"  Export it: python -m wstutorial classroom --room {room} --export {room}.csv")


def run_export(args: argparse.Namespace) -> int:
    """``classroom --export FILE.csv``: the room's board as CSV, read from its file; no server."""
    from .classroom.store import DEFAULT_ROOM, StoreError, default_data_dir, export_csv

    room = args.room or DEFAULT_ROOM
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    text = io.StringIO()
    try:
        rows = export_csv(data_dir, room, text)  # read first: a room that cannot be read leaves no empty file behind
        if args.export == "-":
            sys.stdout.write(text.getvalue())
        else:
            with open(args.export, "w", encoding="utf-8", newline="") as file:
                file.write(text.getvalue())
    except (StoreError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    if args.export != "-":
        print(f"Wrote {rows} row(s) of room {room!r} to {args.export}")
    return EXIT_OK


def run_classroom(args: argparse.Namespace) -> int:
    from .classroom.server import start_classroom
    from .classroom.store import DEFAULT_ROOM, StoreError, default_data_dir
    from .services import ServiceError

    if args.board_file is not None:
        print(
            "error: --board-file is gone: every room's board is kept by default now (--room NAME, --data-dir DIR; "
            "--export FILE.csv writes it out)", file=sys.stderr,
        )
        return EXIT_USAGE
    if args.export is not None:
        return run_export(args)
    if args.redis and not args.workers:
        print("error: --redis is for --workers N; add --workers 2 (or more), or leave out --redis", file=sys.stderr)
        return EXIT_FAILURE
    if args.workers and importlib.util.find_spec("redis") is None:  # the lean install has no Redis client
        print("error: classroom --workers needs the Python package 'redis': pip install 'wstutorial[notebook]'", file=sys.stderr)
        return EXIT_FAILURE
    try:
        classroom = start_classroom(
            args.host, args.port, wheels=args.wheels, workers=args.workers, redis_url=args.redis,
            room_name=args.room or DEFAULT_ROOM, data_dir=Path(args.data_dir) if args.data_dir else default_data_dir(),
            fresh=args.fresh, stuck_after=args.stuck_after * 60, **setting_arguments(args, CLASSROOM_SETTINGS),
        )
    except (FileNotFoundError, ServiceError, ConnectionError, ValueError, StoreError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    print_classroom_addresses(classroom, wheels=args.wheels)
    code = serve_until_interrupted(classroom, args.quiet)
    print_room_kept(classroom)
    return code


def add_lab_command(commands: "argparse._SubParsersAction[_Parser]") -> None:
    """``lab``: copy the notebooks into the student's folder (or serve a folder in place) and open JupyterLab there."""
    from .teaching.lab import DEFAULT_FOLDER

    lab = commands.add_parser(
        "lab", help=f"copy the notebooks into FOLDER (default ./{DEFAULT_FOLDER}) and open them in JupyterLab"
    )
    lab.add_argument(
        "folder", nargs="?", default=DEFAULT_FOLDER, metavar="FOLDER",
        help=f"where your notebooks go (default: {DEFAULT_FOLDER} in the current folder); "
        "files you changed are never overwritten",
    )
    lab.add_argument(
        "--no-browser", action="store_true", help="do not open a browser; just print the address (remote machines)"
    )
    lab.add_argument(
        "--in-place", action="store_true",
        help="serve FOLDER as it is, copying nothing (a checkout's notebooks/, as scripts/tutorial.sh does)",
    )
    lab.set_defaults(run=run_lab)


def run_lab(args: argparse.Namespace) -> int:
    from .teaching.lab import LabError
    from .teaching.lab import run_lab as lab_main

    try:
        return lab_main(args.folder, open_browser=not args.no_browser, in_place=args.in_place)
    except (LabError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE


def _students(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 500:
        raise argparse.ArgumentTypeError(f"students must be a whole number from 1 to 500, got {text!r}")
    return int(text)


def _kernels(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 10:
        raise argparse.ArgumentTypeError(f"kernels must be a whole number from 0 to 10, got {text!r}")
    return int(text)


def add_rehearse_command(commands: "argparse._SubParsersAction[_Parser]") -> None:
    """``rehearse``: a simulated class against a running classroom server, before class, to find problems."""
    rehearse = commands.add_parser(
        "rehearse",
        help="simulate a class (join from many addresses, leave and rejoin, bad names, notebook 06 in real kernels, "
        "chat, results) against a running classroom server, and report what went wrong",
    )
    rehearse.add_argument("--students", type=_students, default=30, help="how many simulated students (default 30)")
    rehearse.add_argument(
        "--kernels", type=_kernels, default=None,
        help="how many more students run notebook 06 in real Jupyter kernels (default 2 with the notebook part, else 0)",
    )
    rehearse.add_argument("--host", type=_host, default="localhost", help="the classroom server's host (default localhost)")
    rehearse.add_argument("--port", type=_port, default=None, help="its port (default $WSTUTORIAL_PORT or 8888)")
    rehearse.add_argument(
        "--duration", type=_duration, default=60.0, help="seconds the simulated lesson lasts (default 60)"
    )
    rehearse.add_argument(
        "--teacher-url", metavar="URL", default=None,
        help="the teacher page's address the classroom printed: the rehearsal then also watches the board as that page does",
    )
    rehearse.add_argument(
        "--one-address", action="store_true",
        help="every simulated student from this machine's own address (default: one address each, 127.0.0.2, ..., "
        "when the server is on this machine)",
    )
    rehearse.add_argument("--seed", type=int, default=None, help="same seed, same rehearsal")
    rehearse.set_defaults(run=run_rehearse)


def _teacher_token(url: str) -> str:
    """The token in a teacher page's address (``...teacher.html?token=...`` or ``#token=...``); '' if none."""
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    for query in (parts.query, parts.fragment):
        token = urllib.parse.parse_qs(query).get("token", [""])[0]
        if token:
            return token
    return ""


def run_rehearse(args: argparse.Namespace) -> int:
    import asyncio

    from .address import default_port
    from .teaching.notebook_files import notebooks_source
    from .tools.rehearsal import CLASS_NOTEBOOK, rehearse

    port = default_port() if args.port is None else args.port
    kernels = args.kernels
    if kernels is None:
        kernels = 2 if all(importlib.util.find_spec(name) for name in ("nbclient", "ipykernel")) else 0
    elif kernels and not all(importlib.util.find_spec(name) for name in ("nbclient", "ipykernel")):
        print("error: --kernels needs the notebook part: python -m pip install \"wstutorial[notebook]\"", file=sys.stderr)
        return EXIT_FAILURE
    token = None
    if args.teacher_url is not None:
        token = _teacher_token(args.teacher_url)
        if not token:
            print(f"error: no token in --teacher-url {args.teacher_url!r}: copy the whole teacher address the classroom printed", file=sys.stderr)
            return EXIT_USAGE
    in_kernels = f" and {kernels} in real kernels running notebook 06" if kernels else ""
    print(f"Rehearsing with {args.students} simulated students{in_kernels} at {args.host}:{port} for about {args.duration:g} s;")
    print("watch the teacher page fill. Ctrl-C stops early.", flush=True)
    try:
        report = asyncio.run(
            rehearse(
                args.host, port, args.students, args.duration, args.seed, kernels=kernels,
                notebook=notebooks_source() / CLASS_NOTEBOOK if kernels else None,
                teacher_token=token, addresses=not args.one_address,
            )
        )
    except KeyboardInterrupt:
        print("Stopped.")
        return EXIT_OK
    print(report)
    return EXIT_FAILURE if report.problems or not report.joined else EXIT_OK


def add_notes_command(commands: "argparse._SubParsersAction[_Parser]") -> None:
    """``notes``: the teacher's notes (lesson plan, what to project, common errors), shipped in the package."""
    notes = commands.add_parser(
        "notes", help="print the teacher's notes: the lesson plan, what to project, common errors, fallbacks"
    )
    notes.add_argument(
        "section", nargs="?", default=None, metavar="SECTION",
        help="print only the section whose title has this word, e.g. 'plan', 'problems' (default: all)",
    )
    notes.add_argument("--path", action="store_true", help="print where the notes file is, to open it in an editor")
    notes.set_defaults(run=run_notes)


def run_notes(args: argparse.Namespace) -> int:
    from .packaged import MissingFile
    from .tools.notes import notes_file, notes_text, section

    try:
        if args.path:
            print(notes_file())
            return EXIT_OK
        text = notes_text()
        print(text if args.section is None else section(text, args.section), end="")
    except MissingFile as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyError as error:
        print(f"error: {error.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    from .teaching.check import (
        main as check_main,  # imports ipywidgets: only for this command
    )

    return check_main(verbose=args.verbose)


def tolerate_any_text_on_the_terminal() -> None:
    """Print what a client sent even where the terminal cannot show it: escaped, not a crash.

    On Windows, output redirected to a file or pipe uses the code page
    (cp1252 ...), which has no emoji; a student's chat message must not stop
    the classroom server with a UnicodeEncodeError.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    tolerate_any_text_on_the_terminal()
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (ServerError, InvalidAddress) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
