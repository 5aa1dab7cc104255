"""A chapter's Kubernetes steps (`session.cluster`): kubectl and manifests, reads and waits,
reset and cleanup. Each step decides whether it can run: without a cluster it says what would
have run; for an attendee it stays in their namespace (notebook.attendee)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import yaml

from aks_runbook import manifests
from aks_runbook.checks.overview import ready_endpoints
from aks_runbook.notebook import attendee
from aks_runbook.run import terminating

if TYPE_CHECKING:
    from aks_runbook.notebook.session import Session

WORKLOADS = ("deployments.apps,statefulsets.apps,daemonsets.apps,replicasets.apps,jobs.batch,"
             "cronjobs.batch,pods")


class ClusterSteps:
    def __init__(self, session: Session):
        self.session, self.env, self.runner = session, session.env, session.runner

    def kubectl(self, args: str, step: str, **kwargs):
        """Run `kubectl <args>`; without a cluster, say so and return None. Impersonation
        (`--as`) needs cluster-wide rights: for an attendee it is the trainer's demo."""
        if self.session.skipped(f"kubectl {args}", kwargs.get("quiet", False)):
            return None
        allowed = self.session.scope.kubectl(args)
        if allowed is None:
            return None
        return self.runner.run(f"kubectl {allowed}", step=step, **kwargs)

    def apply(self, template: str, step: str, check: bool = True, **values: Any):
        """Render manifests/<template>.yaml and `kubectl apply` it (idempotent). With
        check=False a refusal (e.g. by admission) is shown, not raised."""
        docs = self.session.scope.documents(manifests.render(template, **values))
        objects = ", ".join(f"{d['kind']} {d['metadata']['name']}" for d in docs)
        if self.session.skipped(f"kubectl apply -f - (manifests/{template}.yaml: {objects})"):
            return None
        text = yaml.safe_dump_all(docs, sort_keys=False)
        return self.runner.run("kubectl apply -f -", step=step, input=text, check=check)

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

    def local_port(self, usual: int) -> int:
        """The usual local port for a port-forward (for an attendee: a free one)."""
        return self.session.scope.local_port(usual, self.runner.replay)

    @contextlib.contextmanager
    def background(self, command: str, step: str, ready: str):
        """A long-lived command (e.g. `kubectl port-forward`) for the length of a `with`."""
        if self.session.skipped(command):
            yield
            return
        with self.runner.background(command, step=step, ready=ready):
            yield

    def objects(self, kind: str, namespace: str | None = None) -> list[dict]:
        """Live API objects of a kind (e.g. "pods"), optionally of one namespace; none
        without a cluster."""
        if self.session.skipped(f"list {kind}"):
            return []
        listing = self.session.scope.listing(kind, self.session.live_client())
        if listing is None:
            return []
        items = self.session.read(*listing)["items"]
        return [i for i in items if namespace in (None, i["metadata"].get("namespace"))]

    def http_get(self, url: str) -> dict[str, Any] | None:
        """GET a local URL (e.g. through a port-forward) and print its status and page title;
        recorded, so replay shows it too."""
        import urllib.request

        if self.session.skipped(f"GET {url}"):
            return None

        def fetch() -> dict[str, Any]:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - local
                    return {"status": response.status, "body": response.read().decode()}
            except OSError as error:  # e.g. nothing answers behind the port-forward
                return {"status": None, "body": "", "error": str(error)}

        page = self.session.read(f"GET {url}", fetch)
        if page["status"] is None:
            print(f"no answer from {url}: {page['error']}")
            return page
        title = page["body"].partition("<title>")[2].partition("</title>")[0]
        print(f"HTTP {page['status']}: {title}")
        return page

    def wait_endpoints(self, namespace: str, service: str, ready: bool) -> None:
        """Wait until a Service has ready endpoints (or, with ready=False, none)."""
        if self.session.skipped(f"wait for {'ready' if ready else 'no'} endpoints of {service}"):
            return
        client = self.session.live_client()
        selector = f"kubernetes.io/service-name={service}"

        self.wait_until(
            f"endpointslices {namespace}/{service}",
            lambda: client.DiscoveryV1Api().list_namespaced_endpoint_slice(
                namespace, label_selector=selector),
            lambda slices: bool(ready_endpoints(slices["items"])) == ready,
            step=f"endpoints of {service}")

    def wait_until(self, call: str, fetch, done, timeout: float = 60, step: str = "wait"):
        """Poll an API read until done(value); every read is recorded, so replay agrees."""
        if self.session.skipped(f"wait for {step}"):
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
        if self.session.skipped("reset", quiet=True):
            return
        if self._cleaned_as_attendee(namespace, quiet=True):
            return
        for obj in cluster_objects:
            kind, _, name = obj.partition("/")
            ns = []
            if "/" in name:
                ns_name, name = name.split("/", 1)
                ns = ["--namespace", ns_name]
            self.runner.run(["kubectl", "delete", kind, name, *ns, "--ignore-not-found"],
                            step="reset", quiet=True)
        self._workloads_first(namespace, step="reset")
        self.runner.run(["kubectl", "delete", "namespace", namespace, "--ignore-not-found",
                         "--wait", "--timeout=120s"], step="reset", quiet=True)

    def cleanup(self, *namespaces: str, cluster_objects: Sequence[str] = ()) -> None:
        """Delete what the notebook created (cluster-scoped objects, then its namespaces),
        unless `keep: true`. The namespaces go in one call that does not wait: the namespace
        controller takes at least 5 s over each, while the reader goes on. A chapter's reset
        waits for a namespace still terminating, and a headless run for all of them at its
        end (run.chapters)."""
        if self.env.keep:
            noun = "namespace" if len(namespaces) == 1 else "namespaces"
            print(f"keep: true, {noun} {', '.join(namespaces)} left in place")
            return
        removals = {namespace: self.session.scope.removal(namespace) for namespace in namespaces}
        if "objects" in removals.values():
            self._clean(quiet=False)
        going = [namespace for namespace, removal in removals.items() if removal == "namespace"]
        if not going:
            return
        for obj in cluster_objects:
            self.kubectl(f"delete {obj} --ignore-not-found", step="cleanup")
        for namespace in going:
            self._workloads_first(namespace, step="cleanup")
        deleted = self.kubectl(f"delete namespace {' '.join(going)} --ignore-not-found "
                               "--wait=false", step="cleanup")
        if deleted is not None and self.session.run_dir and not self.runner.replay:
            terminating.note(self.session.run_dir, self.session.kubeconfig, going)

    def _workloads_first(self, namespace: str, step: str) -> None:
        """Delete a namespace's workloads and pods before the namespace itself (quietly: the
        namespace's deletion is what the reader sees). The namespace controller waits 5 s
        before each pass over a namespace, and pods still terminating cost a second pass;
        with them gone one pass does."""
        if self.session.skipped(f"delete the workloads of {namespace}", quiet=True):
            return
        self.runner.run(["kubectl", "delete", WORKLOADS, "--all", "--namespace", namespace,
                         "--ignore-not-found", "--wait", "--timeout=120s"], step=step,
                        quiet=True)

    def _cleaned_as_attendee(self, namespace: str, quiet: bool) -> bool:
        """An attendee's reset or cleanup: the chapter's objects in their own namespace, never
        a namespace. False when the namespace and its cluster-wide objects go."""
        removal = self.session.scope.removal(namespace)
        if removal == "objects":
            self._clean(quiet)
        return removal != "namespace"

    def _clean(self, quiet: bool) -> None:
        """Delete the chapters' objects in the attendee's namespace (not the namespace)."""
        if self.runner.replay:
            keep = {"default", "attendee"}
        else:
            keep = attendee.own_names(self.session.api(), self.env.namespace)
        self.runner.run(attendee.clean_command(self.env.namespace, keep), step="cleanup",
                        quiet=quiet)

    def server_version(self) -> str | None:
        """The control plane's Kubernetes version (the API server's /version), printed."""
        if self.session.skipped("GET /version"):
            return None
        client = self.session.live_client()
        version = self.session.read("GET /version",
                                    lambda: client.VersionApi().get_code().git_version)
        print(f"control plane (kube-apiserver): {version}")
        return version
