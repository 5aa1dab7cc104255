"""How our verdicts agree with kubescape's published fixtures (kubescape/regolibrary).

    .venv/bin/python bench/kubescape_agreement.py PATH [--cases]

PATH is a regolibrary checkout (a folder holding controls/ and rules/) or its bare git
directory (its HEAD is read). Nothing of it is copied into this repository. Prints a markdown
table per control, the overall agreement, every "we laxer" and "not applicable" case (with
--cases the others too); exits 1 when some case is "we laxer".

For every kubescape control our checks cite (a check's `public_ids`; a risk of the RBAC table's
`public_ids`; the controls analysis/rbac.py's docstring answers by a row's subject, SUBJECT_ROWS
below), every test case of the control's rules (rules/<rule>/test/<case>) is judged the way a
user would run us on it:
- the case's input/ files loaded as `aks-runbook posture --from-files` does (objects.load_files,
  then checks.run from files; a case's data.json control inputs become the State fields that
  mean the same, CONTROL_INPUTS, as --allowed-registry would), and for the RBAC risks as
  `aks-runbook rbac --from-files` does (rbac.risks from files, system subjects hidden as by
  default);
- an AKS `ClusterDescribe` input (the ARM resource of the managed cluster) becomes what
  `az aks show` prints for it: the resource with its `properties` lifted to the top level (the
  SDK's ManagedCluster model flattens them and azure-cli's todict prints the flattened names);
  it is given to the checks as --cluster-json would.
Our verdict is fail when a citing check fails on anything of the case: a finding with status
fail; an RBAC row of a citing risk, an ineffective-grant row naming such a risk (listed, low),
or a cluster-admin / namespace-admin row that reaches the risk's requests (that row stands for
every path of its rule). kubescape's is fail when the case's expected.json lists anything. A
case whose inputs no citing check reads (no Kubernetes object of a kind we load, no RBAC object
for an RBAC risk, no AKS description for an Azure-level check, no input/ folder) or on which
every citing check says not-applicable is "not applicable", with the reason: no agreement.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from aks_runbook import checks
from aks_runbook.analysis import rbac
from aks_runbook.checks import auth, checklist, maintenance, network, overview  # noqa: F401 - they register
from aks_runbook.cluster.objects import PLURALS, ManifestError, load_files

CONTROL_ID = re.compile(r"\bC-\d{4}\b")
RBAC_KINDS = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}
GRANTS_ALL = {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}
# Controls answered by a row's subject as well as by a risk: C-0262 and C-0265 (also cited by the
# anonymous-access and everyone-reads-workloads risks) by any row whose subject is everyone
# (anonymous or unauthenticated; authenticated), C-0267 and C-0272 by a row of the service
# account a pod of the case runs as ("judge a workload's service account").
EVERYONE_ROWS = {"C-0262": {"User/system:anonymous", "Group/system:unauthenticated"},
                 "C-0265": {"Group/system:authenticated"}}
WORKLOAD_ROWS = {"C-0267", "C-0272"}
# kubescape's postureControlInputs (a case's data.json) -> the checks.State field that means the
# same; an input without such a field is not given (the case is then judged without it).
CONTROL_INPUTS = {"imageRepositoryAllowList": "allowed_registries",
                  "floatingImageTags": "floating_tags"}
SUBJECT_ROWS = set(EVERYONE_ROWS) | WORKLOAD_ROWS


@dataclass
class Citers:
    """What of ours cites one control."""

    checks: set[str] = field(default_factory=set)  # catalog check ids
    risks: set[str] = field(default_factory=set)  # RBAC risk names
    subject_rows: bool = False  # answered by the subjects of RBAC rows

    def names(self) -> str:
        return ", ".join(sorted(self.checks) + sorted(self.risks)
                         + (["RBAC rows' subjects"] if self.subject_rows else []))


def cited_controls() -> dict[str, Citers]:
    """kubescape control id -> our checks and RBAC risks that cite it."""
    cited: dict[str, Citers] = {}
    for item in checks.CATALOG:
        for cid in CONTROL_ID.findall(item.public_ids):
            cited.setdefault(cid, Citers()).checks.add(item.id)
    for risk in rbac.RISKS:
        for cid in CONTROL_ID.findall(risk.public_ids):
            cited.setdefault(cid, Citers()).risks.add(risk.name)
    for cid in SUBJECT_ROWS:
        cited.setdefault(cid, Citers()).subject_rows = True
    return cited


# -- the fixtures ------------------------------------------------------------------------------

@dataclass
class Case:
    rule: str
    name: str
    folder: Path

    @property
    def inputs(self) -> list[Path]:
        folder = self.folder / "input"
        return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []

    def kubescape_fails(self) -> bool:
        """expected.json lists the failing resources; empty, `[]` or `null` is a pass."""
        text = (self.folder / "expected.json").read_text(encoding="utf-8").strip()
        return bool(text and json.loads(text))

    def control_inputs(self) -> dict[str, tuple[str, ...]]:
        """data.json's control inputs as checks.State fields (CONTROL_INPUTS)."""
        data = self.folder / "data.json"
        if not data.is_file():
            return {}
        given = json.loads(data.read_text(encoding="utf-8")).get("postureControlInputs", {})
        known = {f.name for f in fields(checks.State)}
        return {CONTROL_INPUTS[k]: tuple(v) for k, v in given.items()
                if v and CONTROL_INPUTS.get(k) in known}


def library(path: Path, workdir: Path) -> Path:
    """The folder holding controls/ and rules/: the checkout itself, or a bare git directory's
    HEAD extracted under `workdir`."""
    if (path / "controls").is_dir() and (path / "rules").is_dir():
        return path
    archive = subprocess.run(["git", "--git-dir", str(path), "archive", "HEAD", "controls",
                              "rules"], capture_output=True)
    if archive.returncode != 0:
        raise SystemExit(f"{path}: neither a regolibrary checkout (controls/ and rules/) nor its "
                         f"bare git directory ({archive.stderr.decode().strip()})")
    tar = workdir / "regolibrary.tar"
    tar.write_bytes(archive.stdout)
    with tarfile.open(tar) as opened:
        opened.extractall(workdir / "regolibrary", filter="data")
    return workdir / "regolibrary"


def control_rules(root: Path) -> dict[str, list[str]]:
    """controlID -> rulesNames, from controls/*.json."""
    found = {}
    for path in sorted((root / "controls").glob("*.json")):
        control = json.loads(path.read_text(encoding="utf-8"))
        found[control["controlID"]] = control.get("rulesNames") or []
    return found


def rule_cases(root: Path, rule: str) -> list[Case]:
    tests = root / "rules" / rule / "test"
    if not tests.is_dir():
        return []
    return [Case(rule, p.name, p) for p in sorted(tests.iterdir()) if p.is_dir()]


# -- reading a case as we would ------------------------------------------------------------------

def documents(path: Path) -> list[dict]:
    """The mappings of one input file (YAML or JSON, several documents, *List items)."""
    text = path.read_text(encoding="utf-8")
    loaded = [json.loads(text)] if path.suffix == ".json" else list(yaml.safe_load_all(text))
    found = []
    for doc in loaded:
        if isinstance(doc, dict) and str(doc.get("kind", "")).endswith("List") \
                and isinstance(doc.get("items"), list):
            found.extend(i for i in doc["items"] if isinstance(i, dict))
        elif isinstance(doc, dict):
            found.append(doc)
    return found


def az_aks_show(describe: dict) -> dict:
    """kubescape's AKS ClusterDescribe `data` (the ARM resource) as `az aks show` prints it."""
    data = describe.get("data") or {}
    return {**{k: v for k, v in data.items() if k != "properties"},
            **(data.get("properties") or {})}


@dataclass
class Inputs:
    kinds: list[str]  # every input document's kind (ClusterDescribe with its provider)
    objects: dict[str, list[dict]] | None  # the files view, None when no Kubernetes object
    cluster: dict | None  # az aks show JSON
    error: str = ""  # our loader refused the files

    def has(self, kinds: set[str]) -> bool:
        return any(k in kinds for k in self.kinds)


def read_inputs(case: Case, workdir: Path) -> Inputs:
    kinds, manifests, cluster = [], [], None
    for path in case.inputs:
        docs = documents(path)
        kinds += [d.get("kind", "?") + (f"({d.get('metadata', {}).get('provider')})"
                                        if d.get("kind") == "ClusterDescribe" else "")
                  for d in docs]
        aks = [d for d in docs if d.get("kind") == "ClusterDescribe"
               and d.get("metadata", {}).get("provider") == "aks"]
        if aks:
            cluster = az_aks_show(aks[0])
        if any(d.get("kind") in PLURALS for d in docs):
            manifests.append(path)
    if not manifests:
        return Inputs(kinds, None, cluster)
    folder = Path(tempfile.mkdtemp(dir=workdir))
    for path in manifests:  # only the manifest files: what a user would point us at
        (folder / path.name).write_bytes(path.read_bytes())
    try:
        return Inputs(kinds, load_files([folder]).objects, cluster)
    except ManifestError as error:
        where = f"rules/{case.rule}/test/{case.name}/input"
        return Inputs(kinds, None, cluster,
                      f"our loader refuses it: {str(error).replace(str(folder), where)}")


# -- our verdict ---------------------------------------------------------------------------------

def _binding_namespace(row: rbac.Row) -> str | None:
    kind, _, rest = row.binding.partition("/")
    return rest.split("/", 1)[0] if kind == "RoleBinding" else None


def row_answers(row: rbac.Row, risks: set[str]) -> bool:
    """Is this row one of these risks, an ineffective-grant row naming one (the table lists
    the subject against that path, as low), or a row granting all (`*` on `*`) that reaches
    them?"""
    if row.risk in risks:
        return True
    if row.risk == "ineffective-grant":
        return row.path in risks
    if row.risk not in ("cluster-admin", rbac.NAMESPACE_ADMIN):
        return False
    if risks & {"cluster-admin", "wildcard"}:
        return True
    where = _binding_namespace(row)
    return any(rbac.probe_allows(GRANTS_ALL, probe, where)
               for risk in rbac.RISKS if risk.name in risks for probe in risk.probes)


def _workload_accounts(objects: dict[str, list[dict]]) -> set[str]:
    found = set()
    for pod in objects.get("pods", []):
        spec = pod.get("spec") or {}
        account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        found.add(f"ServiceAccount/{pod['metadata']['namespace']}/{account}")
    return found


def _row_text(row: rbac.Row) -> str:
    risk = f"{row.risk} ({row.path})" if row.risk == "ineffective-grant" else row.risk
    return f"{row.subject} {risk} via {row.binding}"


@dataclass
class Verdict:
    status: str  # fail | pass | not-applicable
    why: str  # what failed, or why not applicable


def our_verdict(cid: str, citers: Citers, inputs: Inputs,
                control_inputs: dict[str, tuple[str, ...]]) -> Verdict:
    if not inputs.kinds:
        return Verdict("not-applicable", "no input/ files")
    inputs_are = f"the inputs are {', '.join(sorted(set(inputs.kinds)))}"
    failed, passed, judged, unjudged = [], [], False, []
    catalog = [c for c in checks.CATALOG if c.id in citers.checks]
    findings: list[checks.Finding] | None = None
    for item in catalog:
        if item.scope == "azure" and inputs.cluster is None:
            unjudged.append(f"{item.id} reads the AKS cluster configuration, {inputs_are}")
            continue
        if item.scope == "kubernetes" and inputs.objects is None:
            unjudged.append(inputs.error or f"{item.id} reads Kubernetes objects, {inputs_are}")
            continue
        if findings is None:
            state = checks.State(inputs.objects or {}, inputs.cluster,
                                 "az aks show" if inputs.cluster else "none", origin="files",
                                 **control_inputs)
            findings = checks.run(state)
        mine = [f for f in findings if f.check == item.id]
        if mine and all(f.status == "not-applicable" for f in mine):
            unjudged.append(f"{item.id}: {mine[0].evidence}")
            continue
        judged = True
        failed += [f"{f.check} {f.resource}: {f.evidence}" for f in mine if f.status == "fail"]
        passed += [f"{f.check} {f.resource} {f.status}: {f.evidence}" for f in mine
                   if f.status != "fail"] if mine else [f"{item.id}: no finding"]
    if citers.risks or citers.subject_rows:
        if not inputs.has(RBAC_KINDS):
            unjudged.append(f"the RBAC table reads roles and bindings, {inputs_are}")
        elif inputs.objects is None:
            unjudged.append(inputs.error)
        else:
            judged = True
            rows = rbac.risks(inputs.objects, from_files=True)
            subjects = EVERYONE_ROWS.get(cid) or (
                _workload_accounts(inputs.objects) if cid in WORKLOAD_ROWS else set())
            answers = [r for r in rows if (citers.risks and row_answers(r, citers.risks))
                       or r.subject in subjects]
            failed += [_row_text(r) for r in answers]
            passed.append("RBAC rows: " + (", ".join(map(_row_text, rows)) or "none"))
    if failed:
        return Verdict("fail", "; ".join(failed))
    if not judged:
        return Verdict("not-applicable", "; ".join(unjudged))
    return Verdict("pass", "; ".join(passed))


# -- the table -----------------------------------------------------------------------------------

@dataclass
class Outcome:
    control: str
    case: Case
    kubescape_fails: bool
    ours: Verdict
    kinds: list[str]  # the kinds of the input documents

    @property
    def kind(self) -> str:
        if self.ours.status == "not-applicable":
            return "not applicable"
        ours = self.ours.status == "fail"
        if ours == self.kubescape_fails:
            return "agree"
        return "we stricter" if ours else "we laxer"


def measure(root: Path, workdir: Path) -> list[Outcome]:
    rules = control_rules(root)
    outcomes = []
    for cid, citers in sorted(cited_controls().items()):
        for rule in rules.get(cid, []):
            for case in rule_cases(root, rule):
                inputs = read_inputs(case, workdir)
                verdict = our_verdict(cid, citers, inputs, case.control_inputs())
                outcomes.append(Outcome(cid, case, case.kubescape_fails(), verdict,
                                        inputs.kinds))
    return outcomes


KINDS = ("agree", "we stricter", "we laxer", "not applicable")


def report(outcomes: list[Outcome], cited: dict[str, Citers], listed: set[str],
           cases: bool) -> str:
    lines = ["| control | our checks | cases | agree | we stricter | we laxer | not applicable |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for cid in sorted(cited):
        mine = [o for o in outcomes if o.control == cid]
        counts = [sum(o.kind == k for o in mine) for k in KINDS]
        note = "" if cid in listed else " (no such control in the library)"
        lines.append(f"| {cid}{note} | {cited[cid].names()} | {len(mine)} | "
                     + " | ".join(map(str, counts)) + " |")
    totals = {k: sum(o.kind == k for o in outcomes) for k in KINDS}
    judged = totals["agree"] + totals["we stricter"] + totals["we laxer"]
    lines.append(f"| **all** | | {len(outcomes)} | " + " | ".join(str(totals[k]) for k in KINDS)
                 + " |")
    share = 100 * totals["agree"] / judged if judged else 0.0
    lines += ["", f"agreement: {totals['agree']} of {judged} judged cases = {share:.1f} % "
              f"({totals['we laxer']} we laxer, {totals['we stricter']} we stricter; "
              f"{totals['not applicable']} not applicable)"]
    for kind in ("we laxer", "not applicable", *(("we stricter", "agree") if cases else ())):
        chosen = [o for o in outcomes if o.kind == kind]
        if chosen:
            lines += ["", f"{kind}:"]
            lines += [f"- {o.control} {o.case.rule}/{o.case.name} "
                      f"({', '.join(o.kinds) or 'no input'}): kubescape "
                      f"{'fails' if o.kubescape_fails else 'passes'}, we "
                      f"{o.ours.status}{': ' + o.ours.why if o.ours.why else ''}"
                      for o in chosen]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("regolibrary", type=Path,
                        help="a kubescape/regolibrary checkout or its bare git directory")
    parser.add_argument("--cases", action="store_true",
                        help="also list every stricter and agreeing case with our evidence")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        root = library(args.regolibrary, Path(work))
        outcomes = measure(root, Path(work))
        listed = set(control_rules(root))
    print(report(outcomes, cited_controls(), listed, args.cases))
    return 1 if any(o.kind == "we laxer" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
