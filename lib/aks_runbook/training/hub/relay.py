"""Byte relays across an attendee sandbox's network boundary, through unix sockets in a folder
both sides see (the sandbox has a network namespace of its own: only its own 127.0.0.1).

Outside (in the hub, spawner.py): the proxy's connections to the attendee's server go to a
unix socket the sandbox listens on; the sandbox's connections to the API server and the hub's
API come in on unix sockets and go on to 127.0.0.1:<port> on the machine.

Inside (`python -m aks_runbook.training.hub.relay --tcp PORT=SOCKET ... --unix-fd FD=PORT ...
-- COMMAND`): the mirror image, around the attendee's JupyterLab, which is started as a child
and whose exit ends the relays. The socket the proxy's connections arrive on is made and bound
by the hub, and handed in as a file descriptor: the attendee's folder of sockets is read-only,
so nothing in the sandbox can put another socket in its place. Nothing else on the machine is
reachable from the sandbox. TLS to the API server passes through untouched (the relay sees
only bytes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

Connect = Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


API_CONNECTIONS = 256  # at once, per attendee: the hub holds two file descriptors for each
HUB_CONNECTIONS = 64


def _handler(connect: Connect, limit: int | None = None):
    active = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal active
        if limit is not None and active >= limit:
            writer.close()  # one attendee cannot use up the hub's file descriptors
            return
        active += 1
        try:
            try:
                far_reader, far_writer = await connect()
            except OSError:
                writer.close()
                return
            await asyncio.gather(_pipe(reader, far_writer), _pipe(far_reader, writer))
        finally:
            active -= 1
    return handle


async def tcp_to_unix(port: int, socket_path: Path) -> asyncio.Server:
    """127.0.0.1:port -> the unix socket."""
    return await asyncio.start_server(
        _handler(lambda: asyncio.open_unix_connection(str(socket_path))), "127.0.0.1", port)


def listening(socket_path: Path, owner: int | None) -> socket.socket:
    """A new unix socket at socket_path, listening, 0600 and owned by the sandbox's user."""
    with contextlib.suppress(FileNotFoundError):
        socket_path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(socket_path))
    os.chmod(socket_path, 0o600)
    if owner is not None:
        os.chown(socket_path, owner, owner)
    sock.listen(64)
    return sock


async def unix_to_tcp(sock: socket.socket, port: int, limit: int | None = None,
                      source: str | None = None) -> asyncio.Server:
    """Connections to the listening unix socket -> 127.0.0.1:port (from `source`)."""
    local = (source, 0) if source else None
    return await asyncio.start_unix_server(
        _handler(lambda: asyncio.open_connection("127.0.0.1", port, local_addr=local), limit),
        sock=sock)


def _pairs(values: list[str], option: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        left, sep, right = value.partition("=")
        if not sep:
            raise SystemExit(f"{option} {value!r}: expected LEFT=RIGHT")
        pairs.append((left, right))
    return pairs


async def _inside(tcp: list[tuple[str, str]], unix: list[tuple[str, str]],
                  command: list[str]) -> int:
    servers = [await tcp_to_unix(int(port), Path(path)) for port, path in tcp]
    servers += [await unix_to_tcp(socket.socket(fileno=int(fd)), int(port))
                for fd, port in unix]
    child = await asyncio.create_subprocess_exec(*command)
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, child.send_signal, number)
    code = await child.wait()
    for server in servers:
        server.close()
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aks_runbook.training.hub.relay")
    parser.add_argument("--tcp", action="append", default=[], metavar="PORT=SOCKET",
                        help="listen on 127.0.0.1:PORT, relay to the unix SOCKET")
    parser.add_argument("--unix-fd", action="append", default=[], metavar="FD=PORT",
                        help="accept on the listening unix socket FD, relay to "
                             "127.0.0.1:PORT")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a command to run after --")
    return asyncio.run(_inside(_pairs(args.tcp, "--tcp"), _pairs(args.unix_fd, "--unix-fd"),
                               command))


if __name__ == "__main__":
    sys.exit(main())
