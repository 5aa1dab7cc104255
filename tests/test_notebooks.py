"""The chapter notebooks headless under papermill: local, replay of the local run, and
plan-only aks. The local run shares the session's cluster with nbval and the browser test,
which run the same notebooks: whichever comes first, the others prove that re-runs pass.
Stored outputs are compared by nbval (see pyproject.toml: the notebooks/ directory is
collected with --nbval; tests/nbval-sanitize.cfg lists what is sanitized, and no cell is
ignored)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from aks_runbook.run import chapters as runs
from notebook_outputs import outputs, text_of

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENTS = ROOT / "environments"
IMAGES = re.compile(r'data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+|"image/png": "[A-Za-z0-9+/=\\n]+"')
CHAPTERS = ["01-overview.ipynb", "02-network.ipynb", "03-auth.ipynb", "04-maintenance.ipynb"]


@pytest.fixture(scope="module")
def local_runs(local_cluster, tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    first = runs.run(ENVIRONMENTS / "local.yaml", runs_root=root)
    return [first]


def test_local_run_passes(local_runs, k8s):
    (first,) = local_runs
    assert [n.name for n in first.notebooks] == CHAPTERS
    assert first.ok, runs.failure_message(first)
    # the chapters delete their namespaces without waiting; the run ends once they are gone
    left = {ns.metadata.name for ns in k8s.CoreV1Api().list_namespace().items}
    assert not left & {"azure-vote", "team-vote", "kured", "upgrade-demo"}, left


def test_no_secret_reaches_a_notebook_or_the_transcript(local_runs):
    for run in local_runs:
        for path in run.folder.iterdir():
            if path.suffix in (".ipynb", ".html", ".jsonl"):
                # figures are base64 PNG, where any three letters may occur by chance
                text = IMAGES.sub("", path.read_text())
                assert "eyJ" not in text, f"a token in {path.name}"  # JWTs start so
                assert "db-password: ***" in text or "db-password:" not in text, path.name


def test_overview_checks_find_the_problems_and_pass_once_fixed(local_runs):
    text = text_of(local_runs[0].folder / "01-overview.ipynb")
    assert "ClusterRoleBinding/kubernetes-dashboard   fail  critical" in text
    assert "selector app=azure-vote-bak matches no ready pod" in text
    assert "Pod/azure-vote/web-from-docker-hub   fail" in text
    assert "[valid (deep)] az aks browse --resource-group rg-demo-local" in text
    assert "node resource group: MC_rg-demo-local_aks-demo-local_japaneast" in text
    findings = json.loads((local_runs[0].folder / "findings.json").read_text())
    overview = [f for f in findings if f["chapter"] == "01-overview"]
    assert overview and not [f for f in overview if f["status"] == "fail"], overview
    fixed = [f for f in overview if f["check"] in ("AKS-OV-001", "AKS-OV-002", "AKS-OV-003")]
    assert fixed and all(f["status"] == "pass" for f in fixed), fixed
    # what the planned configuration does not set (zones, tier, node resource group) is not
    # judged, and says so
    unknown = [f for f in overview if f["status"] == "not-applicable"]
    assert all("the configuration does not say" in f["evidence"] for f in unknown), unknown


def test_network_finds_missing_default_deny_and_computes_the_matrix(local_runs):
    text = text_of(local_runs[0].folder / "02-network.ipynb")
    assert "no default deny for ingress; no default deny for egress" in text
    assert "front-1      back-1  TCP/6379  azure-vote/front-to-redis, azure-vote/redis-from-front" \
        in text
    assert "did you mean: userDefinedRouting" in text
    assert "--api-server-authorized-ip-ranges is not supported for private cluster" in text
    # under default deny the ingress controller still reaches the front end, and only it
    assert "ingress-1     front-1    TCP/80                           " \
           "azure-vote/front-from-ingress" in text
    assert "app-routing-system reaches 2 pod(s) on http" in text
    # the egress design: registry data endpoint, the firewall IP read by query, rules judged
    assert "--next-hop-ip-address $FIREWALL_PRIVATE_IP" in text
    assert "FIREWALL_PRIVATE_IP=$(az network firewall show" in text
    assert "acrdemolocal.japaneast.data.azurecr.io" in text
    assert "warning: Option '--docker-bridge-address' has been deprecated" in text
    verdicts = re.findall(r"(AKS-PLAN-00\d) +(pass|fail|not-applicable) ", text)
    assert len(verdicts) == 18 and {v for _, v in verdicts} == {"pass", "not-applicable"}
    assert ("AKS-PLAN-007", "pass") in verdicts and ("AKS-PLAN-003", "pass") in verdicts
    findings = json.loads((local_runs[0].folder / "findings.json").read_text())
    network = {f["resource"]: f["status"] for f in findings if f["chapter"] == "02-network"}
    assert network["Namespace/azure-vote"] == "pass"
    assert network["ReplicaSet/azure-vote/azure-vote-back-" + next(
        r.split("azure-vote-back-")[1] for r in network if "azure-vote-back-" in r)] == "pass"


def test_auth_proves_who_can_what_three_ways_and_tokens_stop_with_their_account(local_runs):
    text = text_of(local_runs[0].folder / "03-auth.ipynb")
    assert "kubectl auth can-i agrees with the SubjectAccessReview on all 5 cells" in text
    assert "analysis.rbac agrees with the SubjectAccessReview on all 36 cells" in text
    assert "carol (developers)      yes          yes                     yes         yes" \
           "          no               no" in text
    assert "TokenReview: authenticated as system:serviceaccount:team-vote:token-demo" in text
    assert 'not authenticated (invalid bearer token): serviceaccounts "token-demo" not found' \
        in text
    assert "a request with the token (SelfSubjectReview): 401 Unauthorized" in text
    assert "Pod/team-vote/reads-env   fail" in text
    assert 'pods "privileged" is forbidden: violates PodSecurity "restricted:latest": ' \
           'privileged (container "app" must not set securityContext.privileged=true)' in text
    assert "pod/compliant created" in text
    assert "--enable-azure-rbac can only be used together with --enable-aad" in text
    assert "unrecognized arguments: --enable-pod-security-policy" in text
    assert "Group/team-vote-developers  RoleBinding/team-vote/developers" in text
    findings = json.loads((local_runs[0].folder / "findings.json").read_text())
    auth = [f for f in findings if f["chapter"] == "03-auth"]
    assert len({f["check"] for f in auth}) == 18 and "AKS-AUTH-018" in {f["check"] for f in auth}
    assert auth and all(f["status"] == "pass" for f in auth), [
        f for f in auth if f["status"] != "pass"]


def test_maintenance_upgrades_a_pool_through_a_blocked_drain_and_rolls_the_front_end(
        local_runs):
    text = text_of(local_runs[0].folder / "04-maintenance.ipynb")
    assert "kubelet v1.35.0 vs control plane 1.36: 1 minor(s) behind" in text
    assert "PodDisruptionBudget upgrade-demo (minAvailable 3 of 3) blocks node drains" in text
    assert "upgrade of node pool 'legacy' to v1.36.3: Failed; 0/3 nodes at v1.36.3" in text
    assert "refused with 429 Too Many Requests until the drain timeout (5 s)" in text
    assert "undrainableNodeBehavior Schedule (the default)" in text
    assert "upgrade of node pool 'legacy' to v1.36.3: Succeeded; 3/3 nodes at v1.36.3" in text
    assert "the app: at least 2 pod(s) ready throughout, PDB minimum 2: never below it" in text
    # kured: one pod on every node, the system pool's included; the lock held and released
    assert "aks-system-77271179-vmss000000  system                  1" in text
    assert '{"nodeID": "manual-maintenance", "created": "2026-01-01T00:00:00Z", "TTL": 0}' in text
    # rolling update, history, rollback
    assert "3         front end v2" in text and "4         readiness probe" in text
    assert "azure-vote-front   mcr.microsoft.com/azuredocs/azure-vote-front:v1   2" in text
    assert "[not validated] az aks update --resource-group rg-demo-local --name aks-demo-local " \
           "--schedule-config" in text and "needs the aks-preview extension" in text
    assert "[invalid] az aks maintenanceconfiguration add --resource-group rg-demo-local " \
           "--cluster-name aks-demo-local --name aksManagedClusterAutoUpgradeSchedule" in text
    assert "dev before prod: pass" in text and "environment boundary: pass" in text
    assert re.search(r"upgrade-settings-user +--max-surge +04-maintenance +1 +33%", text)
    findings = json.loads((local_runs[0].folder / "findings.json").read_text())
    maintenance = [f for f in findings if f["chapter"] == "04-maintenance"]
    assert len({f["check"] for f in maintenance}) == 12
    # all pass but Container Insights, which the plan leaves out on purpose (the chapter says so)
    assert [(f["check"], f["status"]) for f in maintenance if f["status"] == "fail"] == [
        ("AKS-MNT-101", "fail")]


def test_replay_of_the_local_run_shows_the_same_outputs(local_runs, tmp_path):
    recorded = local_runs[0]
    replayed = runs.run(ENVIRONMENTS / "local.yaml", runs_root=tmp_path, overrides={
        "target": "replay", "transcript": str(recorded.folder / "transcript.jsonl")})
    assert replayed.ok, runs.failure_message(replayed)
    for name in CHAPTERS:
        live, replay = outputs(recorded.folder / name), outputs(replayed.folder / name)
        session_cell = 3  # after papermill's injected cell; describe() names the target
        assert "target replay" in replay[session_cell][0][1]
        assert [c for i, c in enumerate(live) if i != session_cell] == \
            [c for i, c in enumerate(replay) if i != session_cell], name


@pytest.mark.slow  # four notebooks under papermill
def test_plan_only_aks_runs_without_a_cluster(tmp_path):
    result = runs.run(ENVIRONMENTS / "aks-dev.yaml", runs_root=tmp_path)
    assert result.ok, runs.failure_message(result)
    text = text_of(result.folder / "02-network.ipynb")
    assert "plan only: execute is false" in text and "$ kubectl" not in text
    # each cluster step says what it would run; nothing pretends to have run
    overview = text_of(result.folder / "01-overview.ipynb")
    assert "$ kubectl" not in overview
    assert "not run (plan only, no cluster yet): kubectl get nodes -o custom-columns=" in overview
    assert ("not run (plan only, no cluster yet): kubectl apply -f - (manifests/voting-app.yaml: "
            "Namespace azure-vote, Deployment azure-vote-back") in overview
    assert ("not run in Azure (execute is false): the plan's 27 provisioning steps" in overview)
    assert ("not run (plan only, no cluster yet): kubectl delete namespace azure-vote" in text)
    auth = text_of(result.folder / "03-auth.ipynb")
    assert "$ kubectl" not in auth and "TokenReview: " not in auth
    assert "not run (plan only, no cluster yet): TokenRequest for serviceaccount " \
           "team-vote/token-demo" in auth
    assert "kubectl auth can-i: not compared (plan only, no cluster yet)" in auth
    assert "not run in Azure (execute is false): 4 planned step(s)" in auth
    maintenance = text_of(result.folder / "04-maintenance.ipynb")
    assert "$ kubectl" not in maintenance and "upgrade of node pool" not in maintenance
    assert "not run (plan only, no cluster yet): simulated az aks nodepool upgrade legacy" \
        in maintenance
    assert "upgrade-settings-user" in maintenance  # the environments side by side
    findings = json.loads((result.folder / "findings.json").read_text())
    azure = [f for f in findings if f["resource"].startswith("ManagedCluster/aks-team1-dev")]
    assert azure and all("planned configuration" in f["evidence"] for f in azure)
    assert any(f["status"] == "not-applicable" and f["evidence"].startswith("no cluster")
               for f in findings)


def test_stored_parameters_cells_come_from_the_model():
    from aks_runbook.notebook.parameters import parameters_cell

    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        tagged = [c for c in cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        assert tagged[0].source == parameters_cell(), f"{path.name}: run `make notebooks`"
