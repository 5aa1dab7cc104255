"""What a notebook needs, in two calls: `begin(globals())` before the parameters cell and
`start(globals(), chapter)` after it. The session holds the environment, the runner and the
target; a chapter's steps are reached through it by concern: `session.cluster` (kubectl,
manifests, waits, cleanup), `session.azure` (the az plan), `session.access` (who may do what,
tokens), `session.network` (reachability) and `session.pools` (simulated node pools).

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
from pathlib import Path
from typing import Any

from aks_runbook import checks, i18n, paths
from aks_runbook.checks.state import gather
from aks_runbook.cluster.kube import Client, client_for
from aks_runbook.frontend import RUN_DIR_ENV
from aks_runbook.notebook import attendee
from aks_runbook.notebook.access import Access
from aks_runbook.notebook.azure_steps import AzurePlan
from aks_runbook.notebook.cluster_steps import ClusterSteps
from aks_runbook.notebook.network import Network
from aks_runbook.notebook.node_pools import NodePools
from aks_runbook.notebook.parameters import declared
from aks_runbook.params import Environment, ParameterError, fields, load
from aks_runbook.run.runner import Runner
from aks_runbook.run.transcript import Recording, Transcript, resolve_transcript

NOT_RUN = "not run (plan only, no cluster yet)"


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
    i18n.set_language(env.language)
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
        self.scope = attendee.Scope(env.namespace, env.prefix)  # what this session may touch
        # what a chapter does, by concern
        self.cluster = ClusterSteps(self)
        self.azure = AzurePlan(self)
        self.access = Access(self)
        self.network = Network(self)
        self.pools = NodePools(self)

    # ---- where we run -----------------------------------------------------------------------

    def ns(self, chapter_namespace: str) -> str:
        """Where the chapter's own objects go: its namespace, or the attendee's."""
        return self.env.namespace or chapter_namespace

    def trainer_step(self, what: str) -> bool:
        """A step that needs cluster-wide rights: True when it runs here; for an attendee it
        is the trainer's demo, said so and not run."""
        return self.scope.allows(what)

    @property
    def has_cluster(self) -> bool:
        """Kubernetes steps run (or replay); on plan-only aks there is no cluster yet, unless a
        kubeconfig names one (an attendee's on the trainer's AKS cluster)."""
        return (self.env.target in ("local", "kind", "replay") or not self.env.plan_only
                or self.env.kubeconfig is not None)

    def skipped(self, what: str, quiet: bool = False) -> bool:
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

    def describe(self) -> str:
        e = self.env
        where = {"local": "the local cluster (real control plane, kwok nodes)",
                 "kind": "the kind cluster",
                 "replay": "a recorded run (no cluster, no Azure)",
                 "aks": f"AKS cluster {e.cluster} in {e.rg}" +
                        ("" if not e.plan_only else " (plan only: execute is false)")}[e.target]
        text = (f"environment {e.environment!r}, target {e.target}: {where}\n"
                f"Azure names: resource group {e.rg}, cluster {e.cluster}, registry {e.acr}")
        return text + self.scope.describe()

    def environment_picker(self) -> None:
        """Other targets, environment files and prefixes, checked by the parameter model as
        they change, with the Azure names they give (widgets.picker; headless: as text)."""
        from aks_runbook.notebook.widgets.picker import environment_picker
        from aks_runbook.params import to_papermill

        environment_picker(to_papermill(self.env))

    # ---- commands -----------------------------------------------------------------------------


    def read(self, call: str, fetch) -> Any:
        """An API read: live through the kubernetes client, or from the recording."""
        return self.runner.api(call, fetch)

    def live_client(self) -> Client | None:
        """The client for API reads; none when replaying (reads come from the recording)."""
        return None if self.runner.replay else self.api()

    def api(self) -> Client:
        """The real kubernetes client, bound to this session's cluster."""
        if self._client is None:
            self._client = client_for(self.kubeconfig)
        return self._client

    # ---- Azure ----------------------------------------------------------------------------------


    # ---- checks and analysis --------------------------------------------------------------------

    def state(self, namespaces: tuple[str, ...] | None = None) -> checks.State:
        config, source = self.azure.cluster_config()
        client = self.live_client() if self.has_cluster else None
        view = self.scope.view(self.read, client) if self.has_cluster else None
        if view is not None:
            return checks.State(view, config, source if config else "none", has_cluster=True,
                                namespaces=namespaces, allowed_registries=(
                                    f"{self.env.acr}.azurecr.io", "mcr.microsoft.com"))
        return gather(self.read, client, config, source, has_cluster=self.has_cluster,
                      allowed_registries=(f"{self.env.acr}.azurecr.io", "mcr.microsoft.com"),
                      namespaces=namespaces)

    def posture(self, namespaces: tuple[str, ...] | None = None, only: str | None = None):
        """This chapter's posture checks as a table. The full table (no `only`) is the
        chapter's evidence and goes to the run's findings; a single check is a spot check.
        The table speaks the session's language; the recorded findings stay English (the
        report translates them when it shows them)."""
        findings = checks.run(self.state(namespaces), chapter=self.chapter)
        if only:
            return checks.table(checks.localized_all([f for f in findings if f.check == only]))
        self.record_findings([f.as_dict() for f in findings])
        return checks.table(checks.localized_all(findings))


    # ---- who may do what (chapter 03) ---------------------------------------------------------


    # ---- versions and upgrades (chapter 04) -------------------------------------------------


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
