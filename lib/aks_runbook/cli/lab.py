"""`aks-runbook lab`: the workshop, JupyterLab with the notebooks against the local cluster."""

from __future__ import annotations

import argparse

from aks_runbook.cli.common import CannotRun
from aks_runbook.cli.options import lang_arg


def add(commands: argparse._SubParsersAction) -> None:
    sub = commands.add_parser(
        "lab", help="the workshop: JupyterLab with the notebooks against the local cluster")
    sub.add_argument("--ip", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1, this machine only; "
                          "0.0.0.0 listens on every interface)")
    sub.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    sub.add_argument("--no-browser", action="store_true",
                     help="do not open a browser (opened only in a desktop session, not "
                          "as root), only print the address")
    lang_arg(sub)  # ja: JupyterLab in Japanese with notebooks/ja
    sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from aks_runbook import i18n, paths
    from aks_runbook.notebook import lab
    from aks_runbook.targets.local import LocalCluster

    # The local target's parameters (the notebooks' defaults) need the local cluster running.
    print(LocalCluster().up().describe())
    server = lab.workshop(paths.project_root(), paths.state_dir(), ip=args.ip, port=args.port,
                          open_browser=not args.no_browser and lab.can_open_browser(),
                          language=i18n.language())
    try:
        server.start()
    except lab.LabError as error:
        raise CannotRun(str(error)) from None
    print(lab.banner(server), flush=True)
    return server.wait()
