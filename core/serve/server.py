"""Starting the page's server: on loopback only, its URL printed with the one-time sign-in token."""
from __future__ import annotations

import ipaddress
import os
import re
import socket
from pathlib import Path

import uvicorn

from etl.batch_config import BatchConfig, BatchJob, load_config
from etl.errors import UsageError
from etl.terminal import echo

from .app import create_app
from .jobs import Settings
from .security import Tokens
from .uploads import PrivateFolder

SIZE = re.compile(r"^(\d+)([KMG]?)$", re.I)
UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def parse_size(text: str) -> int:
    """Bytes from ``500M``, ``2G``, ``1048576``."""
    match = SIZE.match(text.strip())
    if not match or int(match[1]) == 0:
        raise UsageError(f"--max-upload: {text!r} is no size (e.g. 500M, 2G)")
    return int(match[1]) * UNITS[match[2].upper()]


def check_loopback(host: str) -> None:
    """Refuse any address but loopback: the page reads and writes the user's own files and store."""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise UsageError(f"--host {host}: etl serve listens on loopback only (127.0.0.1, ::1 or localhost)")


def load_settings(config: Path | None, job_name: str | None, sink: str | None, target: str | None) -> Settings:
    """The options of the page's imports: those of a job of ``config`` (the first unless named), else
    ``sink`` and ``target``."""
    if config is None:
        if target and "://" not in target:
            target = os.path.abspath(target)  # as given on this command line, wherever the jobs run
        options = {**({"sink": sink} if sink else {}), **({"target": target} if target else {})}
        return Settings.of(BatchConfig(Path("serve.toml"), []), BatchJob("serve", [], options, options))
    loaded = load_config(config)
    jobs = [job for job in loaded.jobs if job_name in (None, job.name)]
    if not jobs:
        raise UsageError(f"{config}: no job named {job_name!r}")
    return Settings.of(loaded, jobs[0])


def listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound before its address is printed: a port in use is said at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host} port {port}: {exc.strerror or exc} (try another --port)") from None
    return sock


def serve(host: str, port: int, settings: Settings, max_upload: int) -> None:
    """Serve the page until interrupted; the private folder goes with the server."""
    check_loopback(host)
    sock = listening_socket(host, port)
    tokens = Tokens(port)
    area = PrivateFolder()
    try:
        app = create_app(settings, tokens, area, max_upload)
        shown_host = f"[{host}]" if ":" in host else host
        echo(f"etl serve: open http://{shown_host}:{port}/login?token={tokens.login} (Ctrl-C stops the server)")
        config = uvicorn.Config(app, log_level="warning", access_log=False, server_header=False, lifespan="on")
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        area.remove()
