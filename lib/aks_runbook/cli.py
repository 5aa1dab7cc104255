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
    whole = azplan.validated(env)
    steps = [s for s in whole if s.chapter.startswith(args.chapter or "")]
    print(azplan.render(steps, env, args.format))
    invalid = [s for s in steps if s.validation and s.validation.status == "invalid"]
    failed = _plan_rules(env, whole, args.format)
    return 1 if invalid or failed else 0


def _plan_rules(env: params.Environment, steps: list, fmt: str) -> int:
    """The plan rules on the whole plan: a table after the text plan, else on stderr so the
    JSON or the script stays as it is. Returns how many failed."""
    from aks_runbook.checks import plan as plan_rules

    findings = plan_rules.judge(env, steps)
    lines = [f"[{f.status}] {f.check} {f.resource}: {f.evidence}" for f in findings]
    failed = sum(f.status == "fail" for f in findings)
    summary = f"plan rules: {len(findings) - failed} of {len(findings)} without a failure"
    print("\n".join(["", "Plan rules (AKS docs, 2026):", *lines, summary]),
          file=sys.stdout if fmt == "text" else sys.stderr)
    return failed


def _validate_az(args: argparse.Namespace) -> int:
    lines: list[str | azvalidate.AzLine] = [
        line for arg in args.lines for line in azvalidate.join_continuations(arg)]
    for path in args.file:
        try:
            lines += azvalidate.read_file(path)
        except OSError as error:
            raise CannotRun(f"cannot read --file {path}: {error.strerror or error}") from error
        except UnicodeDecodeError as error:
            raise CannotRun(f"cannot read --file {path}: not UTF-8 text ({error.reason}); "
                            f"--file takes a shell script or a Markdown file") from error
    if not args.lines and not args.file:
        lines = azvalidate.read_script(sys.stdin.read(), "<stdin>")
    results = azvalidate.validate(lines, deep=not args.shallow)
    counts = azvalidate.counts(results)
    if args.format == "json":
        print(json.dumps({"results": [r.to_json() for r in results], "counts": counts},
                         indent=2, ensure_ascii=False))
    else:
        for result in results:
            print(result.describe())
        print(f"{len(results)} az lines: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    failing = ("invalid", "not validated") if args.strict else ("invalid",)
    return 1 if any(r.status in failing for r in results) else 0


def _run(args: argparse.Namespace) -> int:
    overrides = dict(params.parse_override(p) for p in args.param)
    only = [part.strip() for part in args.only.split(",")] if args.only else None
    result = runs.run(args.env_file, only=only, overrides=overrides)
    print(f"run folder: {result.folder}")
    for notebook in result.notebooks:
        print(f"  {notebook.name:<28} {notebook.status}")
    from aks_runbook import report

    print(f"report: {report.write(result.folder)}")
    if not result.ok:
        print(f"error: {runs.failure_message(result)}", file=sys.stderr)
        return 1
    return 0


def _report(args: argparse.Namespace) -> int:
    from aks_runbook import report

    try:
        print(f"report: {report.write(args.run_folder)}")
    except report.ReportError as error:
        raise CannotRun(str(error)) from None
    return 0


def _lab(args: argparse.Namespace) -> int:
    from aks_runbook import lab, paths

    # The local target's parameters (the notebooks' defaults) need the local cluster running.
    print(LocalCluster().up().describe())
    server = lab.workshop(paths.project_root(), paths.state_dir(), ip=args.ip, port=args.port,
                          open_browser=not args.no_browser and lab.can_open_browser())
    try:
        server.start()
    except lab.LabError as error:
        raise CannotRun(str(error)) from None
    print(lab.banner(server), flush=True)
    return server.wait()


def _training(args: argparse.Namespace) -> int:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    from aks_runbook.kube import client_for
    from aks_runbook.training import admin, credentials, provision, roster
    from aks_runbook.training import run as training_run

    folder = Path(args.folder).resolve()
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
                kubeconfig), args.env, expiry=_seconds(args.expiry),
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
    return 0


def _seconds(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    number, unit = (text[:-1], units[text[-1]]) if text[-1:] in units else (text, 1)
    if not number.isdigit():
        raise CannotRun(f"--expiry {text!r}: expected seconds or a number with s, m or h "
                        f"(e.g. 8h, 90m)")
    return int(number) * unit


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
            cluster = json.loads(Path(args.cluster_json).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CannotRun(f"--cluster-json {args.cluster_json}: {error}") from None
        if not isinstance(cluster, dict):
            raise CannotRun(f"--cluster-json {args.cluster_json}: expected one JSON object "
                            "(az aks show -o json)")
    state = checks.State(_objects(args), cluster,
                         "az aks show" if cluster else "none",
                         allowed_registries=tuple(args.allowed_registry),
                         origin="files" if args.from_files else "cluster")
    findings = checks.run(state, chapter=CHAPTER_NUMBERS.get(args.chapter, args.chapter))
    rows, frame = [f.as_dict() for f in findings], checks.table(findings)
    if args.group_by == "category":
        from aks_runbook.checks import checklist

        rows, frame = checklist.grouped_rows(findings), checklist.grouped(findings)
    if args.format == "json":
        print(json.dumps(rows, indent=2))
    elif args.format == "csv":
        print(frame.to_csv(index=False), end="")
    else:
        print(frame.to_string(index=False))
    return 0


def _reachability(args: argparse.Namespace) -> int:
    from aks_runbook.analysis import reachability as reach

    objects = _objects(args)
    namespaces = reach.namespace_labels(objects.get("namespaces", []))
    pods = reach.pods_from_api(objects.get("pods", []))
    if args.namespace:
        pods = [p for p in pods if p.namespace in set(args.namespace)]
    if args.ipblock_matches_pods and (without := sum(not p.ips for p in pods)):
        why = "manifests have no pod IPs" if args.from_files else "not running yet"
        print(f"note: {without} pod(s) have no IP ({why}): no ipBlock matches them",
              file=sys.stderr)
    try:
        policies = [p for kind in reach.POLICY_KINDS for p in objects.get(kind, [])]
        analyzer = reach.Analyzer(pods, namespaces, policies,
                                  ipblock_matches_pods=args.ipblock_matches_pods)
    except reach.PolicyError as error:
        raise CannotRun(str(error)) from None
    rows = analyzer.matrix(external=args.external)
    out = sys.stdout
    if args.format == "json":
        out.write("[")
        for n, c in enumerate(rows):
            out.write(("," if n else "") + "\n  " + json.dumps(c.as_dict()))
        out.write("\n]\n")
    else:
        width = max([len(p.key) for p in pods] + [len("SOURCE")]) + 1
        out.write(f"{'VERDICT':<8}{'SOURCE':<{width}}{'DESTINATION':<{width}}{'PORT':<16}"
                  "POLICIES\n")
        for c in rows:
            verdict = {True: "allow", False: "deny", None: "unknown"}[c.allowed]
            out.write(f"{verdict:<8}{c.source:<{width}}"
                      f"{c.destination:<{width}}{c.port:<16}{','.join(c.policies)}\n")
    return 0


def _rbac(args: argparse.Namespace) -> int:
    import csv

    from aks_runbook.analysis import rbac

    if args.namespace and not args.who_can:
        raise CannotRun("-n/--namespace goes with --who-can (the risk table covers every "
                        "namespace; its binding column names each grant's namespace)")
    objects = _objects(args)
    policy = rbac.Policy.of(objects, from_files=bool(args.from_files))
    if args.who_can:
        verb, resource = args.who_can
        try:
            name, subresource, group = rbac.parse_resource(resource)
        except ValueError as error:
            raise CannotRun(f"--who-can: {error}") from None
        rows = rbac.who_can(objects, verb.lower(), name, args.namespace, subresource, group,
                            include_system=True, policy=policy)
    else:
        rows = rbac.risks(objects, include_system=True, policy=policy)
    shown = [r for r in rows if args.include_system or not r.system]
    notes = []
    if policy.assumed:
        notes.append("note: bootstrap ClusterRoles not in the files, assumed as Kubernetes "
                     f"v1.36 defines them: {', '.join(policy.assumed)}")
    if policy.missing:
        notes.append(f"note: {len(policy.missing)} binding(s) refer to a role that does not "
                     f"exist and grant nothing: {', '.join(policy.missing)}")
    if hidden := len(rows) - len(shown):
        notes.append(f"note: {hidden} row(s) of system subjects hidden (system:masters, other "
                     "system: users and groups, kube-system service accounts, AKS's "
                     "clusterAdmin); --include-system shows them")
    for note in notes:
        print(note, file=sys.stderr)
    if args.format == "json":
        print(json.dumps([r.as_dict() for r in shown], indent=2))
    elif args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=rbac.FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(r.as_dict() for r in shown)
    else:
        columns = ("severity", "risk", "subject", "binding", "role", "rule")
        widths = {c: max([len(c)] + [len(getattr(r, c)) for r in shown]) + 2 for c in columns}
        print("".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
        for row in shown:
            print("".join(getattr(row, c).ljust(widths[c]) for c in columns).rstrip())
        if not shown:
            print("(none)")
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
    check.add_argument("lines", nargs="*",
                       help="az lines; with neither lines nor --file, a script read from stdin")
    check.add_argument("--file", action="append", default=[], metavar="PATH",
                       help="a shell script, or a Markdown file (its bash/sh/shell/azurecli/"
                            "console code blocks); repeatable")
    check.add_argument("--format", choices=["text", "json"], default="text")
    check.add_argument("--strict", action="store_true",
                       help="also exit 1 when a line could not be validated")
    check.add_argument("--shallow", action="store_true",
                       help="parser and validators only (no handler runs: 'parsed')")
    check.set_defaults(func=_validate_az)

    run = commands.add_parser("run", help="execute the notebooks with papermill into runs/")
    run.add_argument("env_file", help="environment file, e.g. environments/local.yaml")
    run.add_argument("--only", help="notebook numbers, e.g. 01,03")
    run.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                     help="override a parameter (value parsed as YAML)")
    run.set_defaults(func=_run)

    report = commands.add_parser(
        "report", help="one self-contained HTML page for a run or a training run folder")
    report.add_argument("run_folder", metavar="RUN_FOLDER",
                        help="runs/<environment>/<UTC time>/ or runs/training/<UTC time>/; "
                             "the page is written into it as report.html")
    report.set_defaults(func=_report)

    lab_cmd = commands.add_parser(
        "lab", help="the workshop: JupyterLab with the notebooks against the local cluster")
    lab_cmd.add_argument("--ip", default="127.0.0.1",
                         help="address to listen on (default 127.0.0.1, this machine only; "
                              "0.0.0.0 listens on every interface)")
    lab_cmd.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    lab_cmd.add_argument("--no-browser", action="store_true",
                         help="do not open a browser (opened only in a desktop session, not "
                              "as root), only print the address")
    lab_cmd.set_defaults(func=_lab)

    training = commands.add_parser(
        "training", help="training mode: a namespace and a short-lived kubeconfig per attendee "
                         "on one cluster, runs for all of them, teardown")
    training.add_argument("verb", choices=["provision", "run", "teardown"],
                          help="provision: create (idempotent); run: every attendee's "
                               "notebooks; teardown: remove every attendee's resources and "
                               "credentials")
    training.add_argument("--attendees", type=int, metavar="N",
                          help="provision: N attendees named attendee01 .. attendeeNN")
    training.add_argument("--roster", metavar="FILE.csv",
                          help="provision: a CSV with a name column (optionally email)")
    training.add_argument("--expiry", default="8h",
                          help="provision: token lifetime, seconds or 30m/8h (default 8h, "
                               "at least 10m, at most 24h)")
    training.add_argument("--allow-external-services", action="store_true",
                          help="provision: let attendees create NodePort and LoadBalancer "
                               "Services (refused by default; externalIPs always are)")
    training.add_argument("--env", default="environments/local.yaml",
                          help="the environment attendees' parameters start from; its target "
                               "is the cluster (default environments/local.yaml)")
    training.add_argument("--admin-kubeconfig", metavar="PATH",
                          help="the trainer's kubeconfig (default: the local cluster's; needed "
                               "for other targets)")
    training.add_argument("--folder", default="training",
                          help="where credentials live, one folder per attendee (default "
                               "training/, git-ignored)")
    training.add_argument("--parallel", type=int, default=4, metavar="K",
                          help="run: attendees run at a time (default 4)")
    training.add_argument("--only", help="run: notebook numbers, e.g. 01,03")
    training.add_argument("--all", action="store_true",
                          help="teardown: every training namespace on the cluster, not only "
                               "those provisioned for --folder (e.g. when it was lost)")
    training.set_defaults(func=_training)

    def cluster_args(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or "
                                              "~/.kube/config)")
        sub.add_argument("--context", help="kubeconfig context (default: the current one)")
        sub.add_argument("--from-files", nargs="+", metavar="PATH",
                         help="analyse manifest files or folders (YAML or JSON) instead of a "
                              "cluster")

    posture = commands.add_parser(
        "posture", help="run the posture checks on a cluster or on manifest files (--from-files)")
    cluster_args(posture)
    posture.add_argument("--cluster-json", help="`az aks show -o json` output, for the Azure "
                                                "checks (accepts either field casing)")
    posture.add_argument("--chapter", choices=sorted(CHAPTER_NUMBERS),
                         help="only one chapter's checks")
    posture.add_argument("--format", choices=["table", "csv", "json"], default="table")
    posture.add_argument("--group-by", choices=["category"],
                         help="group the findings by the AKS review checklist's categories "
                              "(a category column first; docs/aks-review-checklist.md)")
    posture.add_argument("--allowed-registry", action="append",
                         default=["mcr.microsoft.com"],
                         help="registries images may come from (repeat; MCR is always allowed)")
    posture.set_defaults(func=_posture)

    reach = commands.add_parser("reachability",
                                help="which pod may reach which, as the NetworkPolicies say")
    cluster_args(reach)
    reach.add_argument("--namespace", action="append", help="limit to these namespaces")
    reach.add_argument("--format", choices=["table", "json"], default="table")
    reach.add_argument("--external", action=argparse.BooleanOptionalAction, default=True,
                       help="also list the outside addresses (ip/<cidr>) each pod may reach "
                            "and be reached from (default: on)")
    reach.add_argument("--ipblock-matches-pods", action="store_true",
                       help="let ipBlocks match pod IPs, as Calico and Azure NPM do (default: "
                            "they do not, as with Cilium)")
    reach.set_defaults(func=_reachability)

    rbac_cmd = commands.add_parser(
        "rbac", help="RBAC risks (who holds secrets, exec, impersonate, cluster-admin ...), or "
                     "who can do one thing")
    cluster_args(rbac_cmd)
    rbac_cmd.add_argument("--who-can", nargs=2, metavar=("VERB", "RESOURCE"),
                          help="who can VERB RESOURCE: pods, pods/exec, deployments.apps, "
                               "certificatesigningrequests.certificates.k8s.io/approval, or a "
                               "URL path such as /metrics")
    rbac_cmd.add_argument("-n", "--namespace",
                          help="with --who-can: in this namespace (default: in any namespace)")
    rbac_cmd.add_argument("--format", choices=["table", "csv", "json"], default="table")
    rbac_cmd.add_argument("--include-system", action="store_true",
                          help="also list the subjects the control plane uses by design "
                               "(system:masters, system: users and groups, kube-system service "
                               "accounts, AKS's clusterAdmin)")
    rbac_cmd.set_defaults(func=_rbac)
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
