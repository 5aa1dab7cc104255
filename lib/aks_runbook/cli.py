"""The `aks-runbook` command."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from aks_runbook import azplan, azvalidate, params, runs
from aks_runbook.targets import binaries
from aks_runbook.targets.kind import KindCluster, KindUnavailable
from aks_runbook.targets.local import LocalCluster, LocalClusterError
from aks_runbook.transcript import ReplayMissing

CHAPTER_NUMBERS = {"overview": "01", "network": "02", "auth": "03", "maintenance": "04"}


class CannotRun(RuntimeError):
    """The command cannot do its job (no cluster, bad input file); exit non-zero."""


def _local(args: argparse.Namespace) -> int:
    if args.driver == "kind":
        cluster = KindCluster()
        if args.verb == "up":
            cluster.up()
        elif args.verb == "down":
            cluster.down()
        elif args.verb == "kubeconfig":
            print(cluster.kubeconfig)
        else:
            print(f"kind config: {cluster.write_config()}")
        return 0

    cluster = LocalCluster()
    if args.verb == "build":
        for name, path in sorted(binaries.resolve().items()):
            print(f"{name:<24} {path}")
    elif args.verb == "up":
        print(cluster.up().describe())
    elif args.verb == "down":
        cluster.down()
        print("local cluster removed; no process left running")
    elif args.verb == "status":
        status = cluster.status()
        print(status.describe())
        return 0 if status.running and status.healthy else 3
    elif args.verb == "kubeconfig":
        if not cluster.kubeconfig.is_file():
            print("no local cluster: run `aks-runbook local up` first", file=sys.stderr)
            return 1
        print(cluster.kubeconfig)
    return 0


def _plan(args: argparse.Namespace) -> int:
    env = params.load(args.env_file)
    steps = azplan.validated(env)
    if args.chapter:
        steps = [s for s in steps if s.chapter.startswith(args.chapter)]
    print(azplan.render(steps, env, args.format))
    invalid = [s for s in steps if s.validation and s.validation.status == "invalid"]
    return 1 if invalid else 0


def _validate_az(args: argparse.Namespace) -> int:
    text = "\n".join(args.lines) if args.lines else sys.stdin.read()
    results = azvalidate.validate(azvalidate.join_continuations(text), deep=not args.shallow)
    for result in results:
        print(result.describe())
    return 1 if any(r.status == "invalid" for r in results) else 0


def _run(args: argparse.Namespace) -> int:
    overrides = dict(params.parse_override(p) for p in args.param)
    only = [part.strip() for part in args.only.split(",")] if args.only else None
    result = runs.run(args.env_file, only=only, overrides=overrides)
    print(f"run folder: {result.folder}")
    for notebook in result.notebooks:
        print(f"  {notebook.name:<28} {notebook.status}")
    if not result.ok:
        print(f"error: {runs.failure_message(result)}", file=sys.stderr)
        return 1
    return 0


def _client(args: argparse.Namespace):
    from kubernetes import config as kubeconfig

    from aks_runbook.kube import Client

    try:
        api_client = kubeconfig.new_client_from_config(config_file=args.kubeconfig,
                                                       context=args.context)
    except (kubeconfig.ConfigException, OSError) as error:
        raise CannotRun(f"cannot load the kubeconfig ({args.kubeconfig or '~/.kube/config'}): "
                        f"{error}") from None
    return Client(api_client)


def _read_objects(args: argparse.Namespace):
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    from aks_runbook.objects import plain_read, read_objects

    client = _client(args)
    client.api_client.configuration.retries = 1
    try:
        return read_objects(plain_read, client)
    except (ApiException, HTTPError, OSError) as error:
        raise CannotRun(f"cannot read the cluster: {str(error).splitlines()[0]}") from None


def _objects(args: argparse.Namespace) -> dict[str, list[dict]]:
    """The objects to analyse: from manifest files (--from-files) or the live cluster."""
    if not args.from_files:
        return _read_objects(args)
    from aks_runbook.objects import ManifestError, load_files

    try:
        manifests = load_files(args.from_files)
    except ManifestError as error:
        raise CannotRun(str(error)) from None
    if note := manifests.note():
        print(note, file=sys.stderr)
    return manifests.objects


def _posture(args: argparse.Namespace) -> int:
    from aks_runbook import checks

    cluster = None
    if args.cluster_json:
        try:
            cluster = json.loads(Path(args.cluster_json).read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise CannotRun(f"--cluster-json {args.cluster_json}: {error}") from None
    state = checks.State(_read_objects(args), cluster,
                         "az aks show" if cluster else "none",
                         allowed_registries=tuple(args.allowed_registry))
    findings = checks.run(state, chapter=CHAPTER_NUMBERS.get(args.chapter, args.chapter))
    rows = [f.as_dict() for f in findings]
    if args.format == "json":
        print(json.dumps(rows, indent=2))
    elif args.format == "csv":
        print(checks.table(findings).to_csv(index=False), end="")
    else:
        print(checks.table(findings).to_string(index=False))
    return 0


def _reachability(args: argparse.Namespace) -> int:
    from aks_runbook.analysis import reachability as reach

    objects = _read_objects(args)
    namespaces = reach.namespace_labels(objects["namespaces"])
    chosen = set(args.namespace or namespaces)
    pods = [p for p in reach.pods_from_api(objects["pods"]) if p.namespace in chosen]
    connections = reach.Analyzer(pods, namespaces, objects["networkpolicies"]).matrix()
    if args.format == "json":
        print(json.dumps([c.as_dict() for c in connections], indent=2))
    else:
        for c in connections:
            print(f"{'allow' if c.allowed else 'deny ':<6} {c.source:<40} -> "
                  f"{c.destination:<40} {c.port:<10} {','.join(c.policies)}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="aks-runbook", description="Executable workshop and runbook for secure AKS.")
    commands = top.add_subparsers(dest="command", required=True)

    local = commands.add_parser(
        "local", help="the local cluster: a real control plane with kwok nodes (or kind)")
    local.add_argument("verb", choices=["up", "down", "status", "kubeconfig", "build"],
                       help="up: create or recover; down: remove everything; status: what runs "
                            "where; kubeconfig: print its path; build: only build the binaries")
    local.add_argument("--driver", choices=["kwok", "kind"], default="kwok",
                       help="kwok (default, no Docker needed) or kind (needs Docker or Podman)")
    local.set_defaults(func=_local)

    plan = commands.add_parser("plan", help="the az steps for an environment, validated offline")
    plan.add_argument("env_file", help="environment file, e.g. environments/aks-dev.yaml")
    plan.add_argument("--format", choices=["text", "json", "sh"], default="text")
    plan.add_argument("--chapter", help="only one chapter's steps, e.g. 02")
    plan.set_defaults(func=_plan)

    check = commands.add_parser(
        "validate-az", help="check az command lines with azure-cli's own parser (offline)")
    check.add_argument("lines", nargs="*", help="az lines; read from stdin when none are given")
    check.add_argument("--shallow", action="store_true",
                       help="parser and validators only (skip running az aks create's handler)")
    check.set_defaults(func=_validate_az)

    run = commands.add_parser("run", help="execute the notebooks with papermill into runs/")
    run.add_argument("env_file", help="environment file, e.g. environments/local.yaml")
    run.add_argument("--only", help="notebook numbers, e.g. 01,03")
    run.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                     help="override a parameter (value parsed as YAML)")
    run.set_defaults(func=_run)

    def cluster_args(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or "
                                              "~/.kube/config)")
        sub.add_argument("--context", help="kubeconfig context (default: the current one)")
        sub.add_argument("--from-files", nargs="+", metavar="PATH",
                         help="analyse manifest files or folders (YAML or JSON) instead of a "
                              "cluster")

    posture = commands.add_parser("posture", help="run the posture checks on a cluster")
    cluster_args(posture)
    posture.add_argument("--cluster-json", help="`az aks show -o json` output, for the Azure "
                                                "checks (accepts either field casing)")
    posture.add_argument("--chapter", choices=sorted(CHAPTER_NUMBERS),
                         help="only one chapter's checks")
    posture.add_argument("--format", choices=["table", "csv", "json"], default="table")
    posture.add_argument("--allowed-registry", action="append",
                         default=["mcr.microsoft.com"],
                         help="registries images may come from (repeat; MCR is always allowed)")
    posture.set_defaults(func=_posture)

    reach = commands.add_parser("reachability",
                                help="which pod may reach which, as the NetworkPolicies say")
    cluster_args(reach)
    reach.add_argument("--namespace", action="append", help="limit to these namespaces")
    reach.add_argument("--format", choices=["table", "json"], default="table")
    reach.set_defaults(func=_reachability)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (binaries.MissingBinaries, LocalClusterError, KindUnavailable,
            params.ParameterError, ReplayMissing, CannotRun) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
