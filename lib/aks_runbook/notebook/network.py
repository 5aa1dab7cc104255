"""Who can reach whom (chapter 02, `session.network`): analysis.reachability over the
namespace's pods and the policies the configured engine enforces, as rows or as an explorer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aks_runbook.analysis import reachability as reach
from aks_runbook.checks.network import cilium_unenforced
from aks_runbook.checks.plan import controller_probe

if TYPE_CHECKING:
    from aks_runbook.notebook.session import Session


class Network:
    def __init__(self, session: Session):
        self.session, self.env, self.runner = session, session.env, session.runner

    def reachability(self, namespace: str, external: bool = False,
                     ingress_namespace: str | None = None) -> list[reach.Connection]:
        """Pod-to-pod rows of the namespace; with `external`, outside addresses (`ip/<cidr>`)
        too; with `ingress_namespace`, a pod standing for the ingress controller there.
        ipBlocks do not match pods (Cilium's behaviour, see analysis.reachability)."""
        if self.session.skipped(f"reachability of the pods in {namespace}"):
            return []
        analyzer = reach.Analyzer(*self._network(namespace, ingress_namespace))
        return list(analyzer.matrix(external))

    def _network(self, namespace: str, ingress_namespace: str | None
                 ) -> tuple[list[reach.Pod], dict[str, dict[str, str]], list[dict]]:
        """The namespace's pods (and the ingress controller's stand-in), namespaces, policies."""
        state = self.session.state((namespace,))
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

    def explorer(self, namespace: str, ingress_namespace: str | None = None,
                              names: dict[str, str] | None = None) -> None:
        """widgets.reachability on the pods and policies `reachability` reads: pick a source
        and a destination, switch policies off. Headless: the matrix, and what switching
        each policy off changes."""
        from aks_runbook.notebook.widgets.reachability import Explorer, reachability_explorer

        if self.session.skipped(f"reachability explorer of the pods in {namespace}"):
            return
        reachability_explorer(Explorer(*self._network(namespace, ingress_namespace)), names)
