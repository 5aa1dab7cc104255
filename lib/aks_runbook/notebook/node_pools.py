"""Node pools on the local cluster (chapter 04, `session.pools`): simulated `az aks nodepool
add / delete / upgrade` on kwok nodes (targets.upgrade), recorded so a replay shows the same."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aks_runbook.notebook.session import Session


class NodePools:
    def __init__(self, session: Session):
        self.session, self.env, self.runner = session, session.env, session.runner

    def _simulated(self, what: str) -> bool:
        """True when `what` cannot run here: the simulation needs the local cluster's kwok
        nodes (or a recording of them)."""
        if self.session.skipped(what):
            return True
        if not self.session.scope.allows(f"{what} (node pools are cluster-wide)"):
            return True
        if self.env.target in ("local", "replay"):
            return False
        print(f"not run (target {self.env.target}: the simulation needs the local cluster's "
              f"simulated nodes): {what}")
        return True

    def add(self, pool: str, count: int, minors_behind: int = 1,
                      taint: str | None = None) -> None:
        """A simulated `az aks nodepool add --kubernetes-version <older>` on the local cluster:
        `count` kwok nodes shaped like the user pool, `minors_behind` minor versions behind the
        control plane, with a NoSchedule taint `key=value`."""
        from aks_runbook.checks.maintenance import minor as minor_of
        from aks_runbook.targets import upgrade

        if self._simulated(f"simulated az aks nodepool add {pool}"):
            return
        major, minor = minor_of(self.session.cluster.server_version())
        version = f"v{major}.{minor - minors_behind}.0"
        taints = []
        if taint:
            key, _, value = taint.partition("=")
            taints = [{"key": key, "value": value, "effect": "NoSchedule"}]
        client = self.session.live_client()
        names = self.session.read(
            f"simulated nodepool add {pool} {count} {version}",
            lambda: upgrade.add_pool(client, pool, count, version, taints=taints))
        print(f"node pool {pool!r} added (simulated): {count} node(s) at {version}"
              + (f", taint {taint}:NoSchedule" if taint else "") + ": " + ", ".join(names))

    def delete(self, pool: str, quiet: bool = False) -> None:
        """A simulated `az aks nodepool delete`: the pool's nodes and the pods left on them."""
        from aks_runbook.targets import upgrade

        if self.env.keep and not quiet:
            print(f"keep: true, node pool {pool} left in place")
            return
        if quiet and (not self.session.has_cluster or self.session.scope.attendee or
                      self.env.target not in ("local", "replay")):
            return
        if self._simulated(f"simulated az aks nodepool delete {pool}"):
            return
        client = self.session.live_client()
        self.session.read(f"simulated nodepool delete {pool}",
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

        from aks_runbook.notebook import views
        from aks_runbook.notebook.widgets.timeline import upgrade_timeline
        from aks_runbook.targets import upgrade

        if self._simulated(f"simulated az aks nodepool upgrade {pool}"):
            return None
        client = self.session.live_client()
        target = version or self.session.read(
            "GET /version", lambda: client.VersionApi().get_code().git_version)

        live = upgrade_timeline(pool, target)  # events as they happen (not when headless)

        def run() -> dict[str, Any]:
            import dataclasses

            result = upgrade.upgrade_pool(client, pool, target, pdb=pdb,
                                          report=live.add if live else None, **settings)
            return dataclasses.asdict(result)

        data = self.session.read(
            f"simulated nodepool upgrade {pool} to {target} {sorted(settings)}", run)
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
