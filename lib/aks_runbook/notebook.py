"""What a notebook needs, in two calls: `begin(globals())` before the parameters cell and
`start(globals(), chapter)` after it. The session then gives the runner, the cluster, the plan.

A notebook cell is its steps, one call each: the session decides whether a step can run. On a
plan-only target (aks with execute: false) there is no cluster yet, so a cluster step prints
what it would run ("not run (plan only, no cluster yet): kubectl ...") and returns None; reads
return nothing to show. Nothing pretends to have run.

Unknown parameters are caught here too (papermill alone only warns): every name defined
between `begin` and `start` must be a declared parameter.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pprint
import time
import types
from pathlib import Path
from typing import Any

import yaml

from aks_runbook import azplan, checks, manifests, paths
from aks_runbook.analysis import reachability as reach
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


def begin(namespace: dict[str, Any]) -> None:
    """Remember the names that exist before the parameters cell."""
    namespace[BASELINE] = set(namespace) | {BASELINE}


def declared(namespace: dict[str, Any]) -> dict[str, Any]:
    baseline = namespace.get(BASELINE, set())
    return {k: v for k, v in namespace.items()
            if k not in baseline and not k.startswith("_") and k not in ("In", "Out")
            and not isinstance(v, types.ModuleType | types.FunctionType | type)}


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

    # ---- where we run -----------------------------------------------------------------------

    @property
    def has_cluster(self) -> bool:
        """Kubernetes steps run (or replay); on plan-only aks there is no cluster yet."""
        return self.env.target in ("local", "kind", "replay") or not self.env.plan_only

    def _skipped(self, what: str, quiet: bool = False) -> bool:
        """True when there is no cluster to run a step on; says what would have run."""
        if self.has_cluster:
            return False
        if not quiet:
            print(f"{NOT_RUN}: {what}")
        return True

    def _cluster_kubeconfig(self) -> Path | None:
        target = self.env.target
        if target == "local":
            from aks_runbook.targets.local import LocalCluster
            from aks_runbook.targets.nodepools import PoolShape

            pools = tuple(PoolShape(p.name, p.count, p.vm_size, p.mode)
                          for p in self.env.node_pools)
            cluster = LocalCluster()
            with contextlib.redirect_stderr(io.StringIO()):  # progress bars: not notebook output
                cluster.up(pools=pools, region=self.env.location)
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

    def describe(self) -> str:
        e = self.env
        where = {"local": "the local cluster (real control plane, kwok nodes)",
                 "kind": "the kind cluster",
                 "replay": "a recorded run (no cluster, no Azure)",
                 "aks": f"AKS cluster {e.cluster} in {e.rg}" +
                        ("" if not e.plan_only else " (plan only: execute is false)")}[e.target]
        return (f"environment {e.environment!r}, target {e.target}: {where}\n"
                f"Azure names: resource group {e.rg}, cluster {e.cluster}, registry {e.acr}")

    # ---- commands -----------------------------------------------------------------------------

    def kubectl(self, args: str, step: str, **kwargs):
        """Run `kubectl <args>`; without a cluster, say so and return None."""
        if self._skipped(f"kubectl {args}", kwargs.get("quiet", False)):
            return None
        return self.runner.run(f"kubectl {args}", step=step, **kwargs)

    def apply(self, template: str, step: str, check: bool = True, **values: Any):
        """Render manifests/<template>.yaml and `kubectl apply` it (idempotent). With
        check=False a refusal (e.g. by admission) is shown, not raised."""
        docs = manifests.render(template, **values)
        objects = ", ".join(f"{d['kind']} {d['metadata']['name']}" for d in docs)
        if self._skipped(f"kubectl apply -f - (manifests/{template}.yaml: {objects})"):
            return None
        text = yaml.safe_dump_all(docs, sort_keys=False)
        return self.runner.run("kubectl apply -f -", step=step, input=text, check=check)

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

    def provision(self) -> None:
        """Create the Azure resources for real (target aks, execute: true): the plan's
        provisioning steps, validated first; stops before anything runs without `az login`."""
        steps = [s for s in azplan.validated(self.env) if s.phase == "provision"]
        if not self.env.plan_only:
            self.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        self.execute(steps, what=f"the plan's {len(steps)} provisioning steps (every chapter's; "
                                 f"`aks-runbook plan` lists them)")

    def execute(self, steps: list[azplan.Step], what: str | None = None) -> None:
        """Run plan steps with az (target aks, execute: true); elsewhere they stay a plan."""
        if self.env.plan_only:
            # the same words on local and on its replay, so a replay shows what the run showed
            where = "execute is false" if self.env.target == "aks" else "no Azure on this target"
            print(f"not run in Azure ({where}): {what or f'{len(steps)} planned step(s)'}; "
                  f"they run on target aks with execute: true")
            return
        azplan.execute(steps, self.env, self.runner)

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
        items = self.read(f"list {kind}", lambda: LISTS[kind](client))["items"]
        return [i for i in items if namespace in (None, i["metadata"].get("namespace"))]

    def http_get(self, url: str) -> dict[str, Any] | None:
        """GET a local URL (e.g. through a port-forward) and print its status and page title;
        recorded, so replay shows it too."""
        import urllib.request

        if self._skipped(f"GET {url}"):
            return None

        def fetch() -> dict[str, Any]:
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - local
                return {"status": response.status, "body": response.read().decode()}

        page = self.read(f"GET {url}", fetch)
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
        """Remove what an interrupted earlier run left behind; prints nothing."""
        if self._skipped("reset", quiet=True):
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
        state = self.state((namespace,))
        namespaces = reach.namespace_labels(state.objects.get("namespaces", []))
        pods = reach.pods_from_api(state.items("pods"))
        if ingress_namespace:
            pods.append(controller_probe(ingress_namespace, namespaces))
        analyzer = reach.Analyzer(pods, namespaces, state.items("networkpolicies"))
        return list(analyzer.matrix(external))

    def cleanup(self, namespace: str, *cluster_objects: str) -> None:
        """Delete what the notebook created (cluster-scoped objects, then its namespace),
        unless `keep: true`."""
        if self.env.keep:
            print(f"keep: true, namespace {namespace} left in place")
            return
        for obj in cluster_objects:
            self.kubectl(f"delete {obj} --ignore-not-found", step="cleanup")
        self.kubectl(f"delete namespace {namespace} --ignore-not-found --wait --timeout=120s",
                     step="cleanup")

    # ---- evidence -----------------------------------------------------------------------------

    def record_findings(self, rows: list[dict[str, Any]]) -> None:
        self.findings.extend(rows)
        if self.run_dir:
            with (self.run_dir / "findings.jsonl").open("a") as handle:
                for row in rows:
                    handle.write(json.dumps({"chapter": self.chapter, **row}) + "\n")


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
