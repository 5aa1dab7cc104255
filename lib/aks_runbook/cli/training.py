"""`aks-runbook training`: a namespace and a short-lived kubeconfig per attendee, runs for all
of them, teardown."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from aks_runbook.cli.common import CannotRun, no_cache_arg


def add(commands: argparse._SubParsersAction) -> None:
    sub = commands.add_parser(
        "training", help="training mode: a namespace and a short-lived kubeconfig per attendee "
                         "on one cluster, runs for all of them, teardown")
    sub.add_argument("verb", choices=["provision", "hub", "run", "teardown"],
                     help="provision: create (idempotent); hub: JupyterHub for the "
                          "attendees (logins from training/handout.csv); run: every "
                          "attendee's notebooks; teardown: remove every attendee's "
                          "resources, credentials and logins")
    sub.add_argument("--attendees", type=int, metavar="N",
                     help="provision: N attendees named attendee01 .. attendeeNN")
    sub.add_argument("--roster", metavar="FILE.csv",
                     help="provision: a CSV with a name column (optionally email)")
    sub.add_argument("--expiry", default="8h",
                     help="provision: token lifetime, seconds or 30m/8h (default 8h, "
                          "at least 10m, at most 24h)")
    sub.add_argument("--allow-external-services", action="store_true",
                     help="provision: let attendees create NodePort and LoadBalancer "
                          "Services (refused by default; externalIPs always are)")
    sub.add_argument("--env", default="environments/local.yaml",
                     help="the environment attendees' parameters start from; its target "
                          "is the cluster (default environments/local.yaml)")
    sub.add_argument("--admin-kubeconfig", metavar="PATH",
                     help="the trainer's kubeconfig (default: the local cluster's; needed "
                          "for other targets)")
    sub.add_argument("--folder", default="training",
                     help="where credentials live, one folder per attendee (default "
                          "training/, git-ignored)")
    sub.add_argument("--parallel", type=int, default=4, metavar="K",
                     help="run: attendees run at a time (default 4)")
    sub.add_argument("--only", help="run: notebook numbers, e.g. 01,03")
    sub.add_argument("--all", action="store_true",
                     help="teardown: every training namespace on the cluster, not only "
                          "those provisioned for --folder (e.g. when it was lost)")
    hub = sub.add_argument_group("hub")
    hub.add_argument("--ip", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1, this machine only; "
                          "0.0.0.0 for attendees on other machines, with --subdomain-host "
                          "and --certfile)")
    hub.add_argument("--subdomain-host", metavar="HOST",
                     help="the hub's DNS name when attendees come from other machines (each "
                          "attendee's server is at <name>.HOST: a wildcard DNS entry "
                          "*.HOST must point here); default localhost")
    hub.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    hub.add_argument("--certfile", type=Path, help="TLS certificate (PEM)")
    hub.add_argument("--keyfile", type=Path, help="TLS private key (PEM)")
    hub.add_argument("--admin-password-file", type=Path, metavar="FILE",
                     help="the trainer's password (login `trainer`); default: a new one, "
                          "printed once at start")
    hub.add_argument("--idle-timeout", default="1h",
                     help="stop an attendee's server after this long idle (default 1h)")
    hub.add_argument("--values", type=Path, metavar="FILE.yaml",
                     help="instead of serving: write Zero to JupyterHub values for this class "
                          "on AKS, and FILE-attendees.yaml (what each namespace needs)")
    hub.add_argument("--image", help="--values: the single-user image (tools/hub/Dockerfile, "
                                     "pushed to your registry), e.g. myacr.azurecr.io/lab:1")
    hub.add_argument("--cpu", default="1", help="--values: CPU per attendee (default 1)")
    hub.add_argument("--memory", default="1Gi", help="--values: memory per attendee "
                                                     "(default 1Gi)")
    hub.add_argument("--api-server-cidr", action="append", metavar="CIDR",
                     help="--values: the API server's addresses for the attendee pods' egress "
                          "(default: resolved from the kubeconfig's server)")
    no_cache_arg(sub)
    sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    from aks_runbook import params
    from aks_runbook.cluster.kube import client_for
    from aks_runbook.training import admin, credentials, provision, roster
    from aks_runbook.training import run as training_run

    folder = Path(args.folder).resolve()
    if args.verb == "hub":
        return write_values(args, folder) if args.values else serve_hub(args, folder)
    try:
        if args.verb == "run":
            only = [part.strip() for part in args.only.split(",")] if args.only else None
            result = training_run.run(folder, parallel=args.parallel, only=only)
            print(f"results: {result.folder / 'results.csv'} and results.html\n"
                  f"{result.summary()}\nreport: aks-runbook report {result.folder}")
            return 130 if result.interrupted else 0 if result.ok else 1
        target = params.read_file(args.env).get("target", "local")
        kubeconfig = admin.admin_kubeconfig(target, args.admin_kubeconfig)
        client = client_for(kubeconfig)
        if args.verb == "teardown":
            result = provision.teardown(client, folder, everything=args.all)
            print("\n".join(f"removed {what}" for what in result.removed)
                  or "nothing to remove")
            if result.left:
                print("NOT removed:\n" + "\n".join(f"  {what}" for what in result.left),
                      file=sys.stderr)
                return 1
            return 0
        if (args.attendees is None) == (args.roster is None):
            raise CannotRun("training provision: give --attendees N or --roster FILE.csv")
        people = roster.read(args.roster) if args.roster else roster.numbered(args.attendees)
        outcomes = provision.provision(
            client, people, folder, credentials.ClusterAccess.from_kubeconfig(
                kubeconfig), args.env, expiry=seconds(args.expiry),
            external_services=args.allow_external_services)
    except (roster.RosterError, provision.ProvisionError) as error:
        raise CannotRun(str(error)) from None
    except (ApiException, HTTPError) as error:
        raise CannotRun(f"training {args.verb}: the cluster refused or did not answer: "
                        f"{str(error).splitlines()[0]}") from None
    for outcome in outcomes:
        changes = f"{len(outcome.changes)} change(s)" if outcome.changes else "unchanged"
        print(f"{outcome.attendee:<12} namespace {outcome.namespace:<22} {changes}, "
              f"{'new' if outcome.token == 'new' else 'kept'} token  {outcome.folder}/")
    print(f"hub logins: {folder / 'handout.csv'} (name,password; for the trainer only), "
          f"then: aks-runbook training hub")
    return 0


def write_values(args: argparse.Namespace, folder: Path) -> int:
    from aks_runbook.training.hub import values

    if not args.image:
        raise CannotRun("training hub --values: give --image (the single-user image your "
                        "cluster pulls, built from tools/hub/Dockerfile)")
    try:
        written = values.write(folder, args.values, args.image,
                               idle_timeout=seconds(args.idle_timeout, "--idle-timeout"),
                               cpu=args.cpu, memory=args.memory,
                               admin_password_file=args.admin_password_file,
                               api_server_cidrs=args.api_server_cidr)
    except values.HubValuesError as error:
        raise CannotRun(str(error)) from None
    print("wrote (0600):\n" + "\n".join(f"  {path}" for path in written)
          + f"\nnext: kubectl apply -f {written[1]}, then helm "
            f"upgrade --install ({values.CHART} {values.CHART_VERSION}, namespace "
            f"{values.HUB_NAMESPACE}): README, \"The training hub on AKS\"")
    return 0


def serve_hub(args: argparse.Namespace, folder: Path) -> int:
    from aks_runbook import paths
    from aks_runbook.training.hub.serve import Hub, HubError
    from aks_runbook.training.roster import TRAINER as ADMIN

    password = None
    if args.admin_password_file:
        try:
            password = args.admin_password_file.read_text().strip()
        except OSError as error:
            raise CannotRun(f"--admin-password-file: {error}") from None
        if len(password) < 12:
            raise CannotRun(f"--admin-password-file {args.admin_password_file}: the password "
                            f"must have at least 12 characters")
    hub = Hub(folder, paths.state_dir() / "hub", paths.project_root(), ip=args.ip,
              port=args.port, certfile=args.certfile, keyfile=args.keyfile,
              idle_timeout=seconds(args.idle_timeout, "--idle-timeout"),
              subdomain_host=args.subdomain_host,
              hidden=[paths.state_dir(), paths.project_root() / "runs"],
              **({"admin_password": password} if password else {}))
    try:
        hub.start()
    except HubError as error:
        raise CannotRun(str(error)) from None
    print(f"The training hub is listening on {hub.url}\n"
          f"Attendees log in with the name and password of {folder / 'handout.csv'}.\n"
          f"The trainer logs in as {ADMIN} (admin page: {hub.url}hub/admin)"
          + ("." if password else f", password: {hub.admin_password}\n"
             f"(shown once; use --admin-password-file to choose it)") + "\n"
          f"Stop it with Ctrl-C (the hub, the proxy and every attendee's server). "
          f"Log: {hub.log}", flush=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as on Ctrl-C
    try:
        return hub.wait()
    except KeyboardInterrupt:
        print("\nstopping the hub and every attendee's server ...", file=sys.stderr)
        hub.stop()
        return 130


def seconds(text: str, option: str = "--expiry") -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    number, unit = (text[:-1], units[text[-1]]) if text[-1:] in units else (text, 1)
    if not number.isdigit():
        raise CannotRun(f"{option} {text!r}: expected seconds or a number with s, m or h "
                        f"(e.g. 8h, 90m)")
    return int(number) * unit
