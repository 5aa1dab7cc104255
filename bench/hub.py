"""Benchmark the training hub: N attendees (default 10) log in at once, each starts their
server and a kernel; measured per attendee, the time from the login form to a ready (idle)
kernel, and the memory of their sandbox (PSS of every process in it: what they really add,
shared libraries counted once across sandboxes), and the hub's own (hub, proxy, culler).
On a local cluster of its own (temporary state directory).
Run with `make bench` or `python bench/hub.py [--attendees N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import socket
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import requests

from aks_runbook.targets.local import LocalCluster
from aks_runbook.training import credentials, provision, roster
from aks_runbook.training.hub.serve import Hub, free_port

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / "environments" / "local.yaml"


def _localhost_subdomains() -> None:
    """Attendees' servers are on <name>.localhost; browsers resolve that to this machine,
    the C library here does not: so does this process."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)
    socket.getaddrinfo = getaddrinfo


def ready_kernel(base: str, name: str, password: str) -> float:
    """Seconds from the login form to an idle kernel in the attendee's own server."""
    started = time.monotonic()
    scheme, rest = base.split("://")
    server = f"{scheme}://{name}.{rest}user/{name}/"
    session = requests.Session()
    session.get(f"{base}hub/login", timeout=30)
    answer = session.post(f"{base}hub/login", allow_redirects=False, timeout=30, data={
        "username": name, "password": password, "_xsrf": session.cookies.get("_xsrf")})
    assert answer.status_code == 302, f"{name}: login answered {answer.status_code}"
    session.get(f"{base}hub/spawn/{name}", timeout=180)
    deadline = time.monotonic() + 180
    while True:  # the server is up once its lab page comes through the OAuth redirects
        page = session.get(f"{server}lab", timeout=30)
        if page.status_code == 200 and page.url.startswith(server):
            break
        assert time.monotonic() < deadline, f"{name}: no JupyterLab after 180 s"
        time.sleep(0.5)
    xsrf = next(c.value for c in session.cookies if c.name == "_xsrf"
                and c.domain.startswith(name))
    kernel = session.post(f"{server}api/kernels", json={"name": "python3"},
                          headers={"X-XSRFToken": xsrf}, timeout=60).json()
    cookies = "; ".join(f"{c.name}={c.value}" for c in session.cookies
                        if c.domain.startswith(name))
    asyncio.run(_kernel_info(f"ws{server.removeprefix('http')}api/kernels/{kernel['id']}"
                             f"/channels", cookies, deadline))
    return time.monotonic() - started


async def _kernel_info(url: str, cookies: str, deadline: float) -> None:
    """A kernel is ready when it answers kernel_info over its websocket, as JupyterLab asks."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    connection = await websocket_connect(HTTPRequest(url, headers={"Cookie": cookies}))
    message_id = uuid.uuid4().hex
    connection.write_message(json.dumps({
        "header": {"msg_id": message_id, "msg_type": "kernel_info_request", "username": "",
                   "session": uuid.uuid4().hex, "version": "5.3"},
        "parent_header": {}, "metadata": {}, "content": {}, "channel": "shell"}))
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "the kernel did not answer kernel_info within 180 s"
        message = await asyncio.wait_for(connection.read_message(), left)
        assert message is not None, "the kernel's websocket closed"
        if isinstance(message, bytes):
            continue
        reply = json.loads(message)
        if reply.get("parent_header", {}).get("msg_id") == message_id and \
                reply.get("msg_type") == "kernel_info_reply":
            connection.close()
            return


def pss(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        try:
            total += process.memory_full_info().pss
        except psutil.Error:
            pass
    return total


def main(count: int) -> None:
    _localhost_subdomains()
    with tempfile.TemporaryDirectory() as state:
        os.environ["AKS_RUNBOOK_STATE"] = state
        cluster = LocalCluster(state=Path(state) / "local")
        hub = None
        try:
            cluster.up()
            folder = Path(state) / "training"
            people = [roster.Attendee(f"hub{n:02d}") for n in range(1, count + 1)]
            provision.provision(cluster.api(), people, folder,
                                credentials.ClusterAccess.from_kubeconfig(cluster.kubeconfig),
                                LOCAL)
            with open(folder / "handout.csv") as handle:
                passwords = {row["name"]: row["password"] for row in csv.DictReader(handle)}
            hub = Hub(folder, Path(state) / "hub", ROOT, port=free_port(),
                      hidden=[Path(state)])
            hub.start()
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=count) as pool:
                times = list(pool.map(lambda a: ready_kernel(hub.url, a.name,
                                                             passwords[a.name]), people))
            everyone = time.monotonic() - started
            root = psutil.Process(hub.process.pid)
            family = root.children(recursive=True)
            sandboxes = [p for p in family if p.name() == "bwrap"
                         and p.parent().pid == root.pid]
            per_attendee = [pss([s, *s.children(recursive=True)]) for s in sandboxes]
            in_sandboxes = {p.pid for s in sandboxes for p in [s, *s.children(recursive=True)]}
            hub_own = pss([root, *[p for p in family if p.pid not in in_sandboxes]])
            print(f"{count} attendees logging in at once, on {os.cpu_count()} cores:")
            print(f"  login to a ready kernel: median {statistics.median(times):.1f} s, "
                  f"slowest {max(times):.1f} s; everyone ready after {everyone:.1f} s")
            print(f"  memory per attendee (PSS of their sandbox): median "
                  f"{statistics.median(per_attendee) / 2**20:.0f} MiB, largest "
                  f"{max(per_attendee) / 2**20:.0f} MiB ({len(sandboxes)} sandboxes)")
            print(f"  the hub, the proxy and the culler: {hub_own / 2**20:.0f} MiB")
        finally:
            if hub:
                hub.stop()
            cluster.down()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attendees", type=int, default=10)
    main(parser.parse_args().attendees)
