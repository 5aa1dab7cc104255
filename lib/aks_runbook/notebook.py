"""What a notebook needs, in two calls: `begin(globals())` before the parameters cell and
`start(globals(), chapter)` after it. The session then gives the runner, the cluster, the plan.

A notebook cell is its steps, one call each: the session decides whether a step can run. On a
plan-only target (aks with execute: false) there is no cluster yet, so a cluster step prints
what it would run ("not run (plan only, no cluster yet): kubectl ...") and returns None; reads
return nothing to show. Nothing pretends to have run.

Unknown parameters are caught here too (papermill alone only warns): every name the parameters
cell (or papermill's injected cell) assigns must be a declared parameter.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pprint
import socket
import time
import types
from pathlib import Path
from typing import Any

import yaml

from aks_runbook import attendee, azplan, checks, manifests, paths, planrun
from aks_runbook.analysis import reachability as reach
from aks_runbook.checks.network import cilium_unenforced
from aks_runbook.checks.overview import ready_endpoints
from aks_runbook.checks.plan import controller_probe
from aks_runbook.checks.state import gather
from aks_runbook.kube import Client, client_for
from aks_runbook.objects import LISTS
from aks_runbook.params import Environment, ParameterError, fields, load
from aks_runbook.runner import Runner
from aks_runbook.transcript import Recording, Transcript

BASELINE = "_aks_runbook_names"
RUN_DIR_ENV = "AKS_RUNBOOK_RUN_DIR"
NOT_RUN = "not run (plan only, no cluster yet)"


PARAMETERS_HEADER = "# Parameters"  # the parameters cell's first line, and papermill's


def begin(namespace: dict[str, Any]) -> None:
    """Remember the names that exist before the parameters cell (used outside IPython)."""
    namespace[BASELINE] = set(namespace) | {BASELINE}


def declared(namespace: dict[str, Any]) -> dict[str, Any]:
    """The parameters and their values: the names the last run of the parameters cell (and
    papermill's injected cell after it) assigned, read from the kernel's input history, so
    re-running cells in any order judges the parameters, not every name the kernel has seen.
    Without a history (plain Python), the names defined since `begin`."""
    names = parameter_names(namespace.get("In") or namespace.get("_ih") or [])
    if names is None:
        baseline = namespace.get(BASELINE, set())
        names = [k for k, v in namespace.items()
                 if k not in baseline and not k.startswith("_") and k not in ("In", "Out")
                 and not isinstance(v, types.ModuleType | types.FunctionType | type)]
    return {k: namespace[k] for k in names if k in namespace}


def parameter_names(history: list[str]) -> list[str] | None:
    """Names assigned by the latest parameters cell in the input history, plus papermill's
    injected cell when it ran after it; None when no parameters cell ran."""
    cells = []
    for source in reversed(history):
        first = source.lstrip().partition("\n")[0].rstrip()
        if not first.startswith(PARAMETERS_HEADER) or _assigned(source) is None:
            continue  # not a parameters cell, or one that did not run (a syntax error)
        cells.append(source)
        if first != PARAMETERS_HEADER:  # the author's cell; papermill's follows it, if any
            break
    if not cells:
        return None
    names: list[str] = []
    for source in reversed(cells):
        names += [n for n in _assigned(source) or [] if n not in names]
    return names


def _assigned(source: str) -> list[str] | None:
    """The top-level names a cell assigns (`x = 1`, `x: int = 1`, `x = y = 1`, `x, y = ...`)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign | ast.AugAssign) else []
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name) and leaf.id not in names:
                    names.append(leaf.id)
    return names


def start(namespace: dict[str, Any], chapter: str) -> Session:
    """Validate the parameters (before any command runs) and open the session."""
    given = declared(namespace)
    known = set(fields())
    unknown = sorted(set(given) - known)
    if unknown:
        raise ParameterError(
            f"unknown parameter(s): {', '.join(unknown)}. Known parameters: "
            f"{', '.join(fields())}")
    env = load(given)
    _readable_tables()
    return Session(env, chapter)


def _readable_tables() -> None:
    """Findings have long evidence and remediation text: show it, don't wrap the table."""
    import pandas as pd

    pd.set_option("display.width", 250)
    pd.set_option("display.max_colwidth", 110)
    pd.set_option("display.max_rows", 200)


class Session:
    def __init__(self, env: Environment, chapter: str):
        self.env, self.chapter = env, chapter
        run_dir = os.environ.get(RUN_DIR_ENV)
        self.run_dir = Path(run_dir) if run_dir else None
        transcript = Transcript(self.run_dir / "transcript.jsonl" if self.run_dir else None)
        replay = Recording(resolve_transcript(env.transcript), scope=chapter) \
            if env.target == "replay" else None
        self.kubeconfig = self._cluster_kubeconfig()
        self.runner = Runner(transcript=transcript, replay=replay, scope=chapter,
                             env={"KUBECONFIG": str(self.kubeconfig)} if self.kubeconfig else {})
        self.findings: list[dict[str, Any]] = []
        self._client: Client | None = None
        self._plan: list[azplan.Step] | None = None
        self._tokens: dict[tuple[str, str], str] = {}  # never shown, never recorded
        self._restricted_noted = False

    # ---- where we run -----------------------------------------------------------------------

    @property
    def attendee(self) -> bool:
        """Attendee mode: confined to the `namespace` parameter's namespace."""
        return self.env.namespace is not None

    def ns(self, chapter_namespace: str) -> str:
        """Where the chapter's own objects go: its namespace, or the attendee's."""
        return self.env.namespace or chapter_namespace

    def trainer_step(self, what: str) -> bool:
        """A step that needs cluster-wide rights: True when it runs here; for an attendee it
        is the trainer's demo, said so and not run."""
        if self.attendee:
            print(attendee.demo(what))
            return False
        return True

    @property
    def has_cluster(self) -> bool:
        """Kubernetes steps run (or replay); on plan-only aks there is no cluster yet, unless a
        kubeconfig names one (an attendee's on the trainer's AKS cluster)."""
        return (self.env.target in ("local", "kind", "replay") or not self.env.plan_only
                or self.env.kubeconfig is not None)

    def _skipped(self, what: str, quiet: bool = False) -> bool:
        """True when there is no cluster to run a step on; says what would have run."""
        if self.has_cluster:
            return False
        if not quiet:
            print(f"{NOT_RUN}: {what}")
        return True

    def _cluster_kubeconfig(self) -> Path | None:
        target = self.env.target
        if self.env.kubeconfig:  # someone else's cluster (the trainer's): use it, don't start it
            return Path(self.env.kubeconfig).expanduser()
        if target == "local":
            from aks_runbook.targets.local import LocalCluster
            from aks_runbook.targets.nodepools import PoolShape

            pools = tuple(PoolShape(p.name, p.count, p.vm_size, p.mode)
                          for p in self.env.node_pools)
            cluster = LocalCluster()
            with contextlib.redirect_stderr(io.StringIO()), _headless():
                cluster.up(pools=pools, region=self.env.location)  # its progress: not output
            return cluster.kubeconfig
        if target == "kind":
            from aks_runbook.targets.kind import KindCluster

            kubeconfig = KindCluster().kubeconfig
            if not kubeconfig.is_file():
                raise ParameterError("target = 'kind': no kind cluster is up; start one with "
                                     "`aks-runbook local up --driver kind` (needs Docker or "
                                     "Podman), or use target 'local'")
            return kubeconfig
        if target == "aks" and not self.env.plan_only:
            return paths.state_dir() / "aks" / f"{self.env.cluster}.kubeconfig"
        return None

    def _note_restricted(self) -> None:
        if not self._restricted_noted:
            print(attendee.RESTRICTED_NOTE)
            self._restricted_noted = True

    def describe(self) -> str:
        e = self.env
        where = {"local": "the local cluster (real control plane, kwok nodes)",
                 "kind": "the kind cluster",
                 "replay": "a recorded run (no cluster, no Azure)",
                 "aks": f"AKS cluster {e.cluster} in {e.rg}" +
                        ("" if not e.plan_only else " (plan only: execute is false)")}[e.target]
        text = (f"environment {e.environment!r}, target {e.target}: {where}\n"
                f"Azure names: resource group {e.rg}, cluster {e.cluster}, registry {e.acr}")
        if self.attendee:
            text += (f"\nattendee mode: your steps run in namespace {e.namespace}; cluster-wide "
                     f"steps are the trainer's demo")
        return text

    def environment_picker(self) -> None:
        """Other targets, environment files and prefixes, checked by the parameter model as
        they change, with the Azure names they give (widgets.picker; headless: as text)."""
        from aks_runbook.params import to_papermill
        from aks_runbook.widgets.picker import environment_picker

        environment_picker(to_papermill(self.env))

    # ---- commands -----------------------------------------------------------------------------

    def kubectl(self, args: str, step: str, **kwargs):
        """Run `kubectl <args>`; without a cluster, say so and return None. Impersonation
        (`--as`) needs cluster-wide rights: for an attendee it is the trainer's demo."""
        if self._skipped(f"kubectl {args}", kwargs.get("quiet", False)):
            return None
        if self.attendee and " --as " in f" {args} ":
            print(attendee.demo(f"kubectl {args} (impersonation)"))
            return None
        if self.attendee and args.startswith("run "):
            self._note_restricted()
            args = f"{args} {attendee.run_overrides(args.split()[1])}"
        return self.runner.run(f"kubectl {args}", step=step, **kwargs)

    def apply(self, template: str, step: str, check: bool = True, **values: Any):
        """Render manifests/<template>.yaml and `kubectl apply` it (idempotent). With
        check=False a refusal (e.g. by admission) is shown, not raised."""
        docs = manifests.render(template, **values)
        if self.attendee:  # the attendee's namespace exists; they may not create namespaces
            docs = [d for d in docs if d["kind"] != "Namespace"]
            for doc in docs:
                attendee.own_hosts(doc, self.env.prefix)
            if [d for d in docs if attendee.restricted(d)]:
                self._note_restricted()
        objects = ", ".join(f"{d['kind']} {d['metadata']['name']}" for d in docs)
        if self._skipped(f"kubectl apply -f - (manifests/{template}.yaml: {objects})"):
            return None
        text = yaml.safe_dump_all(docs, sort_keys=False)
        return self.runner.run("kubectl apply -f -", step=step, input=text, check=check)

    def local_port(self, usual: int) -> int:
        """The usual local port for a port-forward; a free one for an attendee, whose neighbours
        on the same machine forward at the same time (a replay keeps the recorded port)."""
        if not self.attendee or self.runner.replay:
            return usual
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    @contextlib.contextmanager
    def background(self, command: str, step: str, ready: str):
        """A long-lived command (e.g. `kubectl port-forward`) for the length of a `with`."""
        if self._skipped(command):
            yield
            return
        with self.runner.background(command, step=step, ready=ready):
            yield

    def read(self, call: str, fetch) -> Any:
        """An API read: live through the kubernetes client, or from the recording."""
        return self.runner.api(call, fetch)

    def _live_client(self) -> Client | None:
        """The client for API reads; none when replaying (reads come from the recording)."""
        return None if self.runner.replay else self.api()

    def api(self) -> Client:
        """The real kubernetes client, bound to this session's cluster."""
        if self._client is None:
            self._client = client_for(self.kubeconfig)
        return self._client

    # ---- Azure ----------------------------------------------------------------------------------

    def plan(self) -> list[azplan.Step]:
        """This chapter's az steps, each validated offline by azure-cli."""
        return azplan.validated(self.env, chapter=self.chapter)

    def show_plan(self) -> list[azplan.Step]:
        steps = self.plan()
        print(azplan.render(steps, self.env))
        return steps

    def show_steps(self, *prefixes: str) -> list[azplan.Step]:
        """The chapter's validated steps whose id starts with one of the prefixes, printed."""
        if self._plan is None:
            self._plan = self.plan()
        steps = [s for s in self._plan if s.id.startswith(prefixes)]
        print(azplan.render(steps, self.env))
        return steps

    def show_manifest(self, template: str, **values: Any) -> None:
        """Print a rendered manifest (multi-line strings as YAML blocks) without applying it."""
        class Dumper(yaml.SafeDumper):
            pass

        def text(dumper, value: str):
            return dumper.represent_scalar("tag:yaml.org,2002:str", value,
                                           style="|" if "\n" in value else None)

        Dumper.add_representer(str, text)
        print(yaml.dump_all(manifests.render(template, **values), Dumper=Dumper,
                            sort_keys=False), end="")

    def provision(self) -> None:
        """Create the Azure resources for real (target aks, execute: true): the plan's
        provisioning steps, validated first; stops before anything runs without `az login`."""
        steps = [s for s in azplan.validated(self.env) if s.phase == "provision"]
        if not self.env.plan_only:
            self.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        self.execute(steps, what=f"the plan's {len(steps)} provisioning steps (every chapter's; "
                                 f"`aks-runbook plan` lists them)")

    def execute(self, steps: list[azplan.Step], what: str | None = None) -> None:
        """Run plan steps with az (target aks, execute: true); elsewhere they stay a plan.
        Destructive steps in production need confirm_destructive (else nothing runs)."""
        risky = [s.id for s in steps if s.destructive]
        if risky and not self.allow_destructive(", ".join(risky)):
            return
        if self.env.plan_only:
            # the same words on local and on its replay, so a replay shows what the run showed
            where = "execute is false" if self.env.target == "aks" else "no Azure on this target"
            print(f"not run in Azure ({where}): {what or f'{len(steps)} planned step(s)'}; "
                  f"they run on target aks with execute: true")
            return
        planrun.execute(steps, self.env, self.runner)

    def team_groups(self) -> dict[str, str]:
        """The team's groups as binding subjects (object ids on AKS; see planrun)."""
        return planrun.group_subjects(self.env, self.runner)

    def allow_destructive(self, what: str) -> bool:
        """Production needs confirm_destructive; otherwise say so and skip."""
        if self.env.production and not self.env.confirm_destructive:
            print(f"refused: {what} is destructive and environment {self.env.environment!r} "
                  f"is production; set confirm_destructive: true to allow it")
            return False
        return True

    # ---- checks and analysis --------------------------------------------------------------------

    def cluster_config(self) -> tuple[dict, str]:
        """`az aks show` on a live AKS cluster, else the configuration the plan would create."""
        if self.env.target == "aks" and not self.env.plan_only:
            shown = self.runner.run(["az", "aks", "show", "--resource-group", self.env.rg,
                                     "--name", self.env.cluster, "-o", "json"],
                                    step="az aks show", quiet=True)
            return shown.json(), "az aks show"
        return azplan.planned_cluster(self.env), "planned configuration"

    def state(self, namespaces: tuple[str, ...] | None = None) -> checks.State:
        config, source = self.cluster_config()
        client = self._live_client() if self.has_cluster else None
        if self.attendee and self.has_cluster:
            return checks.State(
                attendee.read_namespace(self.read, client, self.env.namespace), config,
                source if config else "none", has_cluster=True, namespaces=namespaces,
                allowed_registries=(f"{self.env.acr}.azurecr.io", "mcr.microsoft.com"))
        return gather(self.read, client, config, source, has_cluster=self.has_cluster,
                      allowed_registries=(f"{self.env.acr}.azurecr.io", "mcr.microsoft.com"),
                      namespaces=namespaces)

    def posture(self, namespaces: tuple[str, ...] | None = None, only: str | None = None):
        """This chapter's posture checks as a table. The full table (no `only`) is the
        chapter's evidence and goes to the run's findings; a single check is a spot check."""
        findings = checks.run(self.state(namespaces), chapter=self.chapter)
        if only:
            return checks.table([f for f in findings if f.check == only])
        self.record_findings([f.as_dict() for f in findings])
        return checks.table(findings)

    def objects(self, kind: str, namespace: str | None = None) -> list[dict]:
        """Live API objects of a kind (e.g. "pods"), optionally of one namespace; none
        without a cluster."""
        if self._skipped(f"list {kind}"):
            return []
        client = self._live_client()
        if self.attendee:
            if kind not in attendee.NAMESPACED_LISTS:
                print(attendee.demo(f"list {kind} (cluster-wide)"))
                return []
            return self.read(f"list {kind} --namespace {self.env.namespace}",
                             lambda: attendee.NAMESPACED_LISTS[kind](
                                 client, self.env.namespace))["items"]
        items = self.read(f"list {kind}", lambda: LISTS[kind](client))["items"]
        return [i for i in items if namespace in (None, i["metadata"].get("namespace"))]

    def http_get(self, url: str) -> dict[str, Any] | None:
        """GET a local URL (e.g. through a port-forward) and print its status and page title;
        recorded, so replay shows it too."""
        import urllib.request

        if self._skipped(f"GET {url}"):
            return None

        def fetch() -> dict[str, Any]:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - local
                    return {"status": response.status, "body": response.read().decode()}
            except OSError as error:  # e.g. nothing answers behind the port-forward
                return {"status": None, "body": "", "error": str(error)}

        page = self.read(f"GET {url}", fetch)
        if page["status"] is None:
            print(f"no answer from {url}: {page['error']}")
            return page
        title = page["body"].partition("<title>")[2].partition("</title>")[0]
        print(f"HTTP {page['status']}: {title}")
        return page

    def wait_endpoints(self, namespace: str, service: str, ready: bool) -> None:
        """Wait until a Service has ready endpoints (or, with ready=False, none)."""
        if self._skipped(f"wait for {'ready' if ready else 'no'} endpoints of {service}"):
            return
        client = self._live_client()
        selector = f"kubernetes.io/service-name={service}"

        self.wait_until(
            f"endpointslices {namespace}/{service}",
            lambda: client.DiscoveryV1Api().list_namespaced_endpoint_slice(
                namespace, label_selector=selector),
            lambda slices: bool(ready_endpoints(slices["items"])) == ready,
            step=f"endpoints of {service}")

    def wait_until(self, call: str, fetch, done, timeout: float = 60, step: str = "wait"):
        """Poll an API read until done(value); every read is recorded, so replay agrees."""
        if self._skipped(f"wait for {step}"):
            return None
        deadline = time.monotonic() + timeout
        while True:
            value = self.runner.api(call, fetch, step=step)
            if done(value):
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{step}: not done after {timeout:.0f} s")
            time.sleep(0 if self.runner.replay else 0.5)

    def reset(self, namespace: str, *cluster_objects: str) -> None:
        """Remove what an interrupted earlier run left behind; prints nothing. An attendee's
        reset cleans the chapter's objects in their namespace (and nothing elsewhere)."""
        if self._skipped("reset", quiet=True):
            return
        if self.attendee:
            if namespace == self.env.namespace:
                self._clean(quiet=True)
            return
        for obj in cluster_objects:
            kind, _, name = obj.partition("/")
            ns = []
            if "/" in name:
                ns_name, name = name.split("/", 1)
                ns = ["--namespace", ns_name]
            self.runner.run(["kubectl", "delete", kind, name, *ns, "--ignore-not-found"],
                            step="reset", quiet=True)
        self.runner.run(["kubectl", "delete", "namespace", namespace, "--ignore-not-found",
                         "--wait", "--timeout=120s"], step="reset", quiet=True)

    def reachability(self, namespace: str, external: bool = False,
                     ingress_namespace: str | None = None) -> list[reach.Connection]:
        """Pod-to-pod rows of the namespace; with `external`, outside addresses (`ip/<cidr>`)
        too; with `ingress_namespace`, a pod standing for the ingress controller there.
        ipBlocks do not match pods (Cilium's behaviour, see analysis.reachability)."""
        if self._skipped(f"reachability of the pods in {namespace}"):
            return []
        analyzer = reach.Analyzer(*self._network(namespace, ingress_namespace))
        return list(analyzer.matrix(external))

    def _network(self, namespace: str, ingress_namespace: str | None
                 ) -> tuple[list[reach.Pod], dict[str, dict[str, str]], list[dict]]:
        """The namespace's pods (and the ingress controller's stand-in), namespaces, policies."""
        state = self.state((namespace,))
        namespaces = reach.namespace_labels(state.objects.get("namespaces", []))
        if "namespaces" not in state.objects:  # an attendee cannot list namespaces: of their
            # labels only the one the API server sets on every namespace is known
            namespaces = {n: {"kubernetes.io/metadata.name": n}
                          for n in (namespace, ingress_namespace) if n}
        pods = reach.pods_from_api(state.items("pods"))
        if ingress_namespace:
            pods.append(controller_probe(ingress_namespace, namespaces))
        # Cilium's own policies only where the configured engine enforces them
        kinds = ("networkpolicies",) if cilium_unenforced(state) else reach.POLICY_KINDS
        return pods, namespaces, [p for kind in kinds for p in state.items(kind)]

    def reachability_explorer(self, namespace: str, ingress_namespace: str | None = None,
                              names: dict[str, str] | None = None) -> None:
        """widgets.reachability on the pods and policies `reachability` reads: pick a source
        and a destination, switch policies off. Headless: the matrix, and what switching
        each policy off changes."""
        from aks_runbook.widgets.reachability import Explorer, reachability_explorer

        if self._skipped(f"reachability explorer of the pods in {namespace}"):
            return
        reachability_explorer(Explorer(*self._network(namespace, ingress_namespace)), names)

    def cleanup(self, namespace: str, *cluster_objects: str) -> None:
        """Delete what the notebook created (cluster-scoped objects, then its namespace),
        unless `keep: true`."""
        if self.env.keep:
            print(f"keep: true, namespace {namespace} left in place")
            return
        if self.attendee:
            if namespace == self.env.namespace:
                self._clean(quiet=False)
            return
        for obj in cluster_objects:
            self.kubectl(f"delete {obj} --ignore-not-found", step="cleanup")
        self.kubectl(f"delete namespace {namespace} --ignore-not-found --wait --timeout=120s",
                     step="cleanup")

    def _clean(self, quiet: bool) -> None:
        """Delete the chapters' objects in the attendee's namespace (not the namespace)."""
        if self.runner.replay:
            keep = {"default", "attendee"}
        else:
            keep = attendee.own_names(self.api(), self.env.namespace)
        self.runner.run(attendee.clean_command(self.env.namespace, keep), step="cleanup",
                        quiet=quiet)

    # ---- who may do what (chapter 03) ---------------------------------------------------------

    def access_matrix(self, subjects: dict[str, dict], requests: list[str], namespace: str,
                      by: str = "SubjectAccessReview"):
        """Subjects x requests in a namespace, each cell 'yes' or 'no'. A subject is
        {"user": name, "groups": [...]} (a service account's user is
        system:serviceaccount:<ns>:<name>); a request is "verb resource" as kubectl spells it
        ("create deployments.apps", "create pods/exec"). `by`: "SubjectAccessReview" asks the
        API server's authorizer; "analysis.rbac" asks analysis.rbac.can on the listed Roles and
        bindings. Both add the groups the API server adds (system:authenticated; for service
        accounts system:serviceaccounts and its namespace's group)."""
        import pandas as pd

        from aks_runbook.analysis import rbac

        if self._skipped(f"{by}: {len(subjects)} subjects x {len(requests)} requests in "
                         f"namespace {namespace}"):
            return pd.DataFrame()
        cells = [(label, spec, request) for label, spec in subjects.items()
                 for request in requests]
        if by == "SubjectAccessReview":
            client = self._live_client()

            def fetch() -> list[bool]:
                authorization = client.AuthorizationV1Api()
                if self.attendee:  # a namespaced review: attendees may ask about theirs
                    return [bool(authorization.create_namespaced_local_subject_access_review(
                        namespace, {**_access_review(spec, request, namespace),
                                    "kind": "LocalSubjectAccessReview",
                                    "metadata": {"namespace": namespace}}).status.allowed)
                        for _, spec, request in cells]
                return [bool(authorization.create_subject_access_review(
                    _access_review(spec, request, namespace)).status.allowed)
                    for _, spec, request in cells]

            allowed = self.read(f"SubjectAccessReview {namespace}: {len(subjects)} subjects x "
                                f"{len(requests)} requests", fetch)
        elif by == "analysis.rbac":
            objects = self.state().objects
            policy = rbac.Policy.of(objects)
            allowed = []
            for _, spec, request in cells:
                verb, (resource, sub, group) = _request(request)
                allowed.append(bool(rbac.can(objects, _subject(spec), verb, resource, namespace,
                                             sub, group, groups=spec.get("groups", ()),
                                             policy=policy)))
        else:
            raise ValueError(f"by={by!r}: use 'SubjectAccessReview' or 'analysis.rbac'")
        frame = pd.DataFrame(index=list(subjects), columns=requests, dtype=object)
        for (label, _, request), yes in zip(cells, allowed, strict=True):
            frame.loc[label, request] = "yes" if yes else "no"
        frame.index.name = "subject"
        return frame

    def can_i(self, subject: dict, request: str, namespace: str) -> str | None:
        """`kubectl auth can-i` as that subject (impersonation): 'yes' or 'no'."""
        who = f" --as {subject['user']}" + "".join(f" --as-group {g}"
                                                   for g in subject.get("groups", ()))
        result = self.kubectl(f"auth can-i {request} --namespace {namespace}{who}",
                              step="can-i", check=False)
        return None if result is None else result.stdout.strip()

    def who_can(self, request: str, namespace: str | None = None):
        """analysis.rbac.who_can on the cluster's Roles and bindings: who may do this request
        ("verb resource" as kubectl spells it) in the namespace, one row per binding."""
        import pandas as pd

        from aks_runbook.analysis import rbac

        columns = list(rbac.FIELDS)
        if self._skipped(f"who can {request} (reads the cluster's Roles and bindings)"):
            return pd.DataFrame(columns=columns)
        verb, (resource, sub, group) = _request(request)
        self._attendee_rbac_view()
        rows = rbac.who_can(self.state().objects, verb, resource, namespace, sub or None, group)
        return pd.DataFrame([r.as_dict() for r in rows], columns=columns)

    def whocan_explorer(self, verbs: list[str], resources: list[str],
                        namespaces: list[str]) -> None:
        """widgets.whocan on the cluster's Roles and bindings: pick a verb, a resource and a
        namespace, see who can and through which binding and rule. Headless: every
        combination offered, as a table."""
        from aks_runbook.widgets.whocan import WhoCan, whocan_explorer

        if self._skipped("who-can explorer (reads the cluster's Roles and bindings)"):
            return
        whocan_explorer(WhoCan(self.state().objects), verbs, resources, namespaces)

    def rbac_risks(self):
        """analysis.rbac.risks over the whole cluster's Roles and bindings, as a table (the
        subjects the control plane uses by design left out)."""
        import pandas as pd

        from aks_runbook.analysis import rbac

        columns = list(rbac.FIELDS)
        if self._skipped("RBAC risk table of the cluster's Roles and bindings"):
            return pd.DataFrame(columns=columns)
        if self.attendee:
            print(attendee.demo("the RBAC risk table over the whole cluster"))
        self._attendee_rbac_view()
        rows = rbac.risks(self.state().objects)
        return pd.DataFrame([r.as_dict() for r in rows], columns=columns)

    def _attendee_rbac_view(self) -> None:
        if self.attendee:
            print(f"your view: the Roles and RoleBindings of namespace {self.env.namespace} "
                  f"only (ClusterRoles and ClusterRoleBindings cannot be read, so rights "
                  f"granted through them are not shown)")

    def request_token(self, namespace: str, account: str, seconds: int = 600) -> None:
        """A short-lived token for a service account from the TokenRequest API. The token is a
        secret: it stays in this session (never printed, never recorded); what is shown is
        who it is for, its audiences and its lifetime."""
        if self._skipped(f"TokenRequest for serviceaccount {namespace}/{account}"):
            return

        def fetch() -> dict[str, Any]:
            response = self.api().CoreV1Api().create_namespaced_service_account_token(
                account, namespace, {"spec": {"expirationSeconds": seconds}})
            self._tokens[(namespace, account)] = response.status.token
            return {"audiences": response.spec.audiences,
                    "expirationSeconds": response.spec.expiration_seconds}

        info = self.read(f"TokenRequest {namespace}/{account} {seconds}s", fetch)
        print(f"TokenRequest: a token for system:serviceaccount:{namespace}:{account}, "
              f"audience {', '.join(info['audiences'])}, valid for "
              f"{info['expirationSeconds']} s (the token itself is a secret: not shown)")

    def check_token(self, namespace: str, account: str, until_rejected: bool = False) -> None:
        """What the API server answers for the session's token of this service account: a
        TokenReview, and a request made with the token (a SelfSubjectReview, what `kubectl
        auth whoami` sends). With until_rejected, wait until it is refused."""
        if self._skipped(f"TokenReview of the token for {namespace}/{account}"):
            return

        def fetch() -> dict[str, Any]:
            token = self._tokens[(namespace, account)]
            if self.attendee:  # TokenReview is cluster-wide: the request alone tells
                request = self._request_with(token)
                return {"authenticated": request.startswith("201"), "user": None,
                        "error": "", "request": request}
            status = self.api().AuthenticationV1Api().create_token_review(
                {"spec": {"token": token}}).status
            # "[invalid bearer token, <why>]": kept as <why> (the transcript's redaction would
            # mask the words after "bearer")
            why = (status.error or "").removeprefix("[invalid bearer token, ").removesuffix("]")
            return {"authenticated": bool(status.authenticated),
                    "user": status.user.username if status.authenticated else None,
                    "error": why, "request": self._request_with(token)}

        call = f"TokenReview {namespace}/{account}"
        answer = (self.wait_until(call, fetch, lambda a: not a["authenticated"],
                                  step="token refused") if until_rejected else
                  self.read(call, fetch))
        if not answer["authenticated"]:
            self._tokens.pop((namespace, account), None)
        if self.attendee:
            print(attendee.demo("the TokenReview (a cluster-wide API)"))
        else:
            print("TokenReview: " + (f"authenticated as {answer['user']}"
                                     if answer["authenticated"] else
                                     f"not authenticated (invalid bearer token): "
                                     f"{answer['error']}"))
        print(f"a request with the token (SelfSubjectReview): {answer['request']}")

    def _request_with(self, token: str) -> str:
        """POST a SelfSubjectReview with this bearer token (and no client certificate)."""
        import copy

        from kubernetes.client import ApiClient
        from kubernetes.client.rest import ApiException

        config = copy.copy(self.api().api_client.configuration)
        config.cert_file = config.key_file = None
        config.api_key, config.api_key_prefix = {"authorization": f"Bearer {token}"}, {}
        config.refresh_api_key_hook = None  # else a token kubeconfig puts its own token back
        with ApiClient(config) as api_client:
            try:
                review = Client(api_client).AuthenticationV1Api().create_self_subject_review(
                    {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
            except ApiException as error:
                return f"{error.status} {error.reason}"
        return f"201 Created, user {review.status.user_info.username}"

    # ---- versions and upgrades (chapter 04) -------------------------------------------------

    def server_version(self) -> str | None:
        """The control plane's Kubernetes version (the API server's /version), printed."""
        if self._skipped("GET /version"):
            return None
        client = self._live_client()
        version = self.read("GET /version", lambda: client.VersionApi().get_code().git_version)
        print(f"control plane (kube-apiserver): {version}")
        return version

    def _simulated(self, what: str) -> bool:
        """True when `what` cannot run here: the simulation needs the local cluster's kwok
        nodes (or a recording of them)."""
        if self._skipped(what):
            return True
        if self.attendee:
            print(attendee.demo(f"{what} (node pools are cluster-wide)"))
            return True
        if self.env.target in ("local", "replay"):
            return False
        print(f"not run (target {self.env.target}: the simulation needs the local cluster's "
              f"simulated nodes): {what}")
        return True

    def add_node_pool(self, pool: str, count: int, minors_behind: int = 1,
                      taint: str | None = None) -> None:
        """A simulated `az aks nodepool add --kubernetes-version <older>` on the local cluster:
        `count` kwok nodes shaped like the user pool, `minors_behind` minor versions behind the
        control plane, with a NoSchedule taint `key=value`."""
        from aks_runbook.checks.maintenance import minor as minor_of
        from aks_runbook.targets import upgrade

        if self._simulated(f"simulated az aks nodepool add {pool}"):
            return
        major, minor = minor_of(self.server_version())
        version = f"v{major}.{minor - minors_behind}.0"
        taints = []
        if taint:
            key, _, value = taint.partition("=")
            taints = [{"key": key, "value": value, "effect": "NoSchedule"}]
        client = self._live_client()
        names = self.read(f"simulated nodepool add {pool} {count} {version}",
                          lambda: upgrade.add_pool(client, pool, count, version, taints=taints))
        print(f"node pool {pool!r} added (simulated): {count} node(s) at {version}"
              + (f", taint {taint}:NoSchedule" if taint else "") + ": " + ", ".join(names))

    def delete_node_pool(self, pool: str, quiet: bool = False) -> None:
        """A simulated `az aks nodepool delete`: the pool's nodes and the pods left on them."""
        from aks_runbook.targets import upgrade

        if self.env.keep and not quiet:
            print(f"keep: true, node pool {pool} left in place")
            return
        if quiet and (not self.has_cluster or self.attendee or
                      self.env.target not in ("local", "replay")):
            return
        if self._simulated(f"simulated az aks nodepool delete {pool}"):
            return
        client = self._live_client()
        self.read(f"simulated nodepool delete {pool}",
                  lambda: upgrade.delete_pool(client, pool))
        if not quiet:
            print(f"node pool {pool!r} deleted (simulated)")

    def simulate_upgrade(self, pool: str, pdb: tuple[str, str], version: str | None = None,
                         **settings: Any):
        """A node-pool upgrade as AKS runs it (targets.upgrade), against the local cluster's
        API server: to `version` (default: the control plane's), watching the app behind the
        PodDisruptionBudget `pdb` (namespace, name). Shows the outcome, the timeline and the
        steps in order (no times or pod names: they change from run to run); recorded, so a
        replay shows the same. `settings`: upgrade_pool's max_surge, drain_timeout (seconds
        here, minutes on AKS), undrainable, retry_interval ..."""
        from IPython.display import display

        from aks_runbook import views
        from aks_runbook.targets import upgrade
        from aks_runbook.widgets.timeline import upgrade_timeline

        if self._simulated(f"simulated az aks nodepool upgrade {pool}"):
            return None
        client = self._live_client()
        target = version or self.read("GET /version",
                                      lambda: client.VersionApi().get_code().git_version)

        live = upgrade_timeline(pool, target)  # events as they happen (not when headless)

        def run() -> dict[str, Any]:
            import dataclasses

            result = upgrade.upgrade_pool(client, pool, target, pdb=pdb,
                                          report=live.add if live else None, **settings)
            return dataclasses.asdict(result)

        data = self.read(f"simulated nodepool upgrade {pool} to {target} {sorted(settings)}",
                         run)
        result = upgrade.UpgradeResult(**{
            **data, "events": [upgrade.Event(**e) for e in data["events"]],
            "samples": [upgrade.Sample(**s) for s in data["samples"]],
            "blocked": [upgrade.Blocked(**b) for b in data["blocked"]]})
        if live:
            live.finish(result.events)  # a replay's events arrive all at once
        at = sum(v == result.version for v in result.nodes.values())
        print(f"upgrade of node pool {pool!r} to {result.version}: {result.state}; "
              f"{at}/{len(result.nodes)} nodes at {result.version}")
        if result.samples:
            print(f"the app: at least {result.min_ready} pod(s) ready throughout, PDB minimum "
                  f"{result.min_available}: "
                  + ("never below it" if result.never_below_pdb else "BELOW it"))
        if result.explanation:
            print(result.explanation)
        figure, table = views.upgrade_timeline(result, stable=True)
        display(figure)
        display(table)
        return result

    # ---- evidence -----------------------------------------------------------------------------

    def record_findings(self, rows: list[dict[str, Any]]) -> None:
        self.findings.extend(rows)
        if self.run_dir:
            with (self.run_dir / "findings.jsonl").open("a") as handle:
                for row in rows:
                    handle.write(json.dumps({"chapter": self.chapter, **row}) + "\n")


@contextlib.contextmanager
def _headless():
    """Progress bars off (not widgets either): a stored output must not depend on how long
    the cluster took to come up."""
    from aks_runbook.frontend import HEADLESS_ENV

    before = os.environ.get(HEADLESS_ENV)
    os.environ[HEADLESS_ENV] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(HEADLESS_ENV, None)
        else:
            os.environ[HEADLESS_ENV] = before


def _subject(spec: dict) -> str:
    """analysis.rbac's subject key for {"user": ...}: a service account's user name is one."""
    user = spec["user"]
    prefix = "system:serviceaccount:"
    if user.startswith(prefix) and user.count(":") == 3:
        namespace, _, name = user.removeprefix(prefix).partition(":")
        return f"ServiceAccount/{namespace}/{name}"
    return f"User/{user}"


def _request(request: str) -> tuple[str, tuple[str, str, str]]:
    from aks_runbook.analysis import rbac

    verb, _, resource = request.partition(" ")
    return verb, rbac.parse_resource(resource)


def _access_review(spec: dict, request: str, namespace: str) -> dict:
    """A SubjectAccessReview with the groups the API server would add to this subject."""
    from aks_runbook.analysis import rbac

    groups = sorted(g.removeprefix("Group/") for g in rbac.identities(
        _subject(spec), spec.get("groups", ())) if g.startswith("Group/"))
    verb, (resource, sub, group) = _request(request)
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": spec["user"], "groups": groups, "resourceAttributes": {
                "namespace": namespace, "verb": verb, "group": group, "resource": resource,
                "subresource": sub}}}


def agreement(matrix, other, name: str) -> str:
    """Whether `other` (a matrix of the same shape, or {(subject, request): answer}) gives the
    SubjectAccessReview matrix's answers, cell by cell."""
    if matrix is None or matrix.empty:
        return f"{name}: not compared (plan only, no cluster yet)"
    cells = other.items() if isinstance(other, dict) else other.stack().items()
    compared = [(who, request, answer) for (who, request), answer in cells if answer is not None]
    if not compared:  # e.g. every answer was the trainer's demo
        return f"{name}: not compared (no answers here)"
    differ = [f"{who} / {request}: SubjectAccessReview {matrix.loc[who, request]}, {name} "
              f"{answer}" for who, request, answer in compared
              if matrix.loc[who, request] != answer]
    if differ:
        return f"{name} DISAGREES on {len(differ)} of {len(compared)} cells:\n  " + \
            "\n  ".join(differ)
    return f"{name} agrees with the SubjectAccessReview on all {len(compared)} cells"


def resolve_transcript(path: str | None) -> Path:
    """A transcript path as given, else relative to the project (notebooks run in notebooks/)."""
    if not path:
        raise ParameterError("transcript = None: target 'replay' needs a recorded transcript")
    candidate = Path(path)
    if not candidate.is_absolute() and not candidate.exists():
        candidate = paths.project_root() / path
    if not candidate.is_file():
        raise ParameterError(f"transcript = {path!r}: no such file; give the transcript.jsonl "
                             f"of a recorded run (runs/<environment>/<timestamp>/)")
    return candidate


def parameters_cell(defaults_file: str | Path | None = None) -> str:
    """The `parameters` cell every notebook carries, generated from the environment model.

    Defaults come from environments/local.yaml, so a notebook opened in JupyterLab runs
    against the local cluster as it is.
    """
    defaults_file = defaults_file or paths.project_root() / "environments" / "local.yaml"
    defaults = yaml.safe_load(Path(defaults_file).read_text())
    env = load(defaults)
    values = env.model_dump(mode="json")
    lines = ["# Parameters: papermill injects an environment file's values after this cell.",
             "# Every name is validated by aks_runbook.params in the next cell."]
    for name, info in fields().items():
        value = defaults[name] if name in defaults else values[name]
        # papermill's parameter inspection reads simple annotations only (not `str | None`)
        kind = {dict: "dict", list: "list", bool: "bool", int: "int"}.get(type(value), "str")
        text = pprint.pformat(value, width=96 - len(name), sort_dicts=False)
        if "\n" in text:
            lines.append(f"# {info.description}")
            lines.append(f"{name}: {kind} = " + text.replace("\n", "\n" + " " * (len(name) +
                                                                               len(kind) + 5)))
        else:
            lines.append(f"{name}: {kind} = {text}  # {info.description}")
    return "\n".join(lines)
