"""AKS-OV-002 (Services without endpoints) and AKS-OV-003 (allowed registries), on views from a
cluster and from files. Cases named `C-0078 ...` mirror the published test cases of kubescape's
rule container-image-repository (kubescape/regolibrary), recreated as small objects."""

from __future__ import annotations

import pytest

from aks_runbook import checks
from aks_runbook.checks.overview import allowed_image, registry_path
from check_views import cluster_view, files_view


def verdicts(check_id: str, objects: dict, **state) -> dict[str, str]:
    found = checks.run(checks.State(objects, **state))
    return {f.resource: f.status for f in found if f.check == check_id}


def pod(name: str, labels: dict | None = None, namespace: str = "default", **spec) -> dict:
    return {"kind": "Pod", "metadata": {"name": name, "namespace": namespace,
                                        "labels": labels or {}},
            "spec": spec or {"containers": [{"name": "c", "image": "mcr.microsoft.com/a:1"}]}}


def deployment(name: str, labels: dict, namespace: str = "default", **spec) -> dict:
    return {"kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
            "spec": {"selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": spec or {
                         "containers": [{"name": "c", "image": "mcr.microsoft.com/a:1"}]}}}}


def service(name: str, selector: dict | None, namespace: str = "default", **spec) -> dict:
    return {"kind": "Service", "metadata": {"name": name, "namespace": namespace},
            "spec": {**({"selector": selector} if selector is not None else {}), **spec}}


def endpoints(service_name: str, *ready: bool | None, namespace: str = "default") -> dict:
    return {"kind": "EndpointSlice",
            "metadata": {"name": f"{service_name}-x", "namespace": namespace,
                         "labels": {"kubernetes.io/service-name": service_name}},
            "endpoints": [{"addresses": ["10.0.0.1"]} if r is None else
                          {"addresses": ["10.0.0.1"], "conditions": {"ready": r}} for r in ready]}


# ---- AKS-OV-002 -------------------------------------------------------------------------------

ENDPOINT_CASES = [
    ("ready endpoint", [service("web", {"app": "web"}), endpoints("web", True)],
     {"Service/default/web": "pass"}),
    ("no ready condition means ready", [service("web", {"app": "web"}), endpoints("web", None)],
     {"Service/default/web": "pass"}),
    ("only unready endpoints", [service("web", {"app": "web"}), endpoints("web", False)],
     {"Service/default/web": "fail"}),
    ("no EndpointSlice at all", [service("web", {"app": "web"})], {"Service/default/web": "fail"}),
    ("a slice of another namespace", [service("web", {"app": "web"}),
                                      endpoints("web", True, namespace="other")],
     {"Service/default/web": "fail"}),
    ("no selector: endpoints managed by hand", [service("db", None)], {}),
    ("ExternalName", [service("ext", {"app": "x"}, type="ExternalName")], {}),
]


@pytest.mark.parametrize("objects, expected", [c[1:] for c in ENDPOINT_CASES],
                         ids=[c[0] for c in ENDPOINT_CASES])
def test_endpoints_from_a_cluster(objects, expected):
    assert verdicts("AKS-OV-002", cluster_view(*objects)) == expected


def test_unlisted_endpointslices_never_pass():
    objects = cluster_view(service("web", {"app": "web"}))
    del objects["endpointslices"]
    assert verdicts("AKS-OV-002", objects) == {"Service/*": "not-applicable"}


TEMPLATE_CASES = [
    ("selector matches a Deployment's template",
     [deployment("web", {"app": "web", "tier": "front"}), service("web", {"app": "web"})],
     {"Service/default/web": "pass"}),
    ("selector with a typo", [deployment("web", {"app": "web"}), service("web", {"app": "wbe"})],
     {"Service/default/web": "fail"}),
    ("selector wants a label the template lacks",
     [deployment("web", {"app": "web"}), service("web", {"app": "web", "tier": "front"})],
     {"Service/default/web": "fail"}),
    ("pods of another namespace", [deployment("web", {"app": "web"}, namespace="other"),
                                   service("web", {"app": "web"})],
     {"Service/default/web": "fail"}),
    ("a bare pod", [pod("web", {"app": "web"}), service("web", {"app": "web"})],
     {"Service/default/web": "pass"}),
]


@pytest.mark.parametrize("objects, expected", [c[1:] for c in TEMPLATE_CASES],
                         ids=[c[0] for c in TEMPLATE_CASES])
def test_endpoints_from_files_judge_pod_templates(tmp_path, objects, expected):
    assert verdicts("AKS-OV-002", files_view(tmp_path, *objects), origin="files") == expected


def test_files_evidence_says_it_judged_templates(tmp_path):
    objects = files_view(tmp_path, deployment("web", {"app": "web"}),
                         service("web", {"app": "web"}))
    [finding] = [f for f in checks.run(checks.State(objects, origin="files"))
                 if f.check == "AKS-OV-002"]
    assert "Deployment/default/web" in finding.evidence and "from files" in finding.evidence


# ---- AKS-OV-003 -------------------------------------------------------------------------------

def containers(*images: str, init: tuple[str, ...] = (), ephemeral: tuple[str, ...] = ()):
    return {"containers": [{"name": f"c{i}", "image": x} for i, x in enumerate(images)],
            "initContainers": [{"name": f"i{i}", "image": x} for i, x in enumerate(init)],
            "ephemeralContainers": [{"name": f"e{i}", "image": x} for i, x in enumerate(ephemeral)]}


KUBESCAPE_ALLOW = ("amazonaws.com", "gcr.io", "azurecr.io")
REGISTRY_CASES = [
    # (case, pod spec, allowed registries, verdict)
    ("C-0078 pod-failed: debian", containers("debian"), KUBESCAPE_ALLOW, "fail"),
    ("C-0078 pod-pass-docker-image: nginx with docker.io allowed", containers("nginx"),
     ("docker.io",), "pass"),
    ("C-0078 pod-passed: the registry itself", containers("debian-azurecr.io/"),
     ("amazonaws.com", "gcr.io", "debian-azurecr.io"), "pass"),
    ("C-0078 workload-failed: k8s.gcb.io", containers("k8s.gcb.io/goproxy:0.1"), KUBESCAPE_ALLOW,
     "fail"),
    ("MCR image", containers("mcr.microsoft.com/oss/nginx:1.27"), ("mcr.microsoft.com",), "pass"),
    ("no registry is Docker Hub, never MCR", containers("nginx:1.27"), ("mcr.microsoft.com",),
     "fail"),
    ("a look-alike host", containers("mcr.microsoft.com.evil.io/x:1"), ("mcr.microsoft.com",),
     "fail"),
    ("a user path on Docker Hub named like a registry", containers("mcr/x:1"), ("mcr",), "fail"),
    ("an init container from Docker Hub", containers("mcr.microsoft.com/a:1", init=("busybox",)),
     ("mcr.microsoft.com",), "fail"),
    ("an ephemeral debug container", containers("mcr.microsoft.com/a:1", ephemeral=("busybox",)),
     ("mcr.microsoft.com",), "fail"),
    ("your ACR", containers("myacr.azurecr.io/app:1", init=("mcr.microsoft.com/b:1",)),
     ("myacr.azurecr.io", "mcr.microsoft.com"), "pass"),
    ("a registry path allows only below it", containers("mcr.microsoft.com/ossx/y:1"),
     ("mcr.microsoft.com/oss",), "fail"),
    ("a registry with a port", containers("localhost:5000/app:1"), ("localhost:5000",), "pass"),
]


@pytest.mark.parametrize("spec, allowed, expected", [c[1:] for c in REGISTRY_CASES],
                         ids=[c[0] for c in REGISTRY_CASES])
def test_allowed_registries(spec, allowed, expected):
    objects = cluster_view(pod("p", **spec))
    assert verdicts("AKS-OV-003", objects, allowed_registries=allowed) == {
        "Pod/default/p": expected}


def test_c0078_cronjob_failed_from_files(tmp_path):
    """C-0078 cronjob-failed: a CronJob's image influxdb, from files."""
    cronjob = {"kind": "CronJob", "metadata": {"name": "hello"}, "spec": {"jobTemplate": {
        "spec": {"template": {"spec": containers("influxdb")}}}}}
    objects = files_view(tmp_path, cronjob)
    assert verdicts("AKS-OV-003", objects, origin="files",
                    allowed_registries=KUBESCAPE_ALLOW) == {"CronJob/default/hello": "fail"}


@pytest.mark.parametrize("image, full", [
    ("nginx", "docker.io/library/nginx"), ("nginx:1.27", "docker.io/library/nginx:1.27"),
    ("bitnami/redis:7", "docker.io/bitnami/redis:7"),
    ("mcr.microsoft.com/a", "mcr.microsoft.com/a"),
    ("localhost/a", "localhost/a"), ("host:5000/a", "host:5000/a"),
])
def test_registry_path(image, full):
    assert registry_path(image) == full


def test_allowed_image_needs_the_slash():
    assert not allowed_image("mcr.microsoft.com.evil.io/x", ("mcr.microsoft.com",))
    assert allowed_image("mcr.microsoft.com/x", ("mcr.microsoft.com/",))


def test_failure_evidence_names_the_registry_and_container_kind():
    objects = cluster_view(pod("p", **containers("mcr.microsoft.com/a:1", init=("busybox",))))
    [finding] = [f for f in checks.run(checks.State(objects)) if f.check == "AKS-OV-003"]
    assert finding.evidence == "images busybox (docker.io, init container)"


def test_unlisted_pods_never_pass():
    objects = cluster_view()
    del objects["pods"]
    assert verdicts("AKS-OV-003", objects) == {"Pod/*": "not-applicable"}


# ---- added for mutation testing ----------------------------------------------------------------

def test_pass_evidence_counts_the_ready_endpoints():
    objects = cluster_view(service("web", {"app": "web", "tier": "a"}),
                           endpoints("web", True, None, False))
    [found] = [f for f in checks.run(checks.State(objects)) if f.check == "AKS-OV-002"]
    assert found.evidence == "2 ready endpoint(s) for app=web,tier=a"


def test_only_the_first_path_part_can_be_a_registry_host():
    assert registry_path("myorg/tools.v2/app") == "docker.io/myorg/tools.v2/app"


def test_an_allowed_registry_path_may_end_in_any_letter():
    assert allowed_image("myacr.azurecr.io/teamX/app", ("myacr.azurecr.io/teamX",))
    assert not allowed_image("myacr.azurecr.io/teamXY/app", ("myacr.azurecr.io/teamX",))
