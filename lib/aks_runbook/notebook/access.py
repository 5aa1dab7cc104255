"""Who may do what (chapter 03, `session.access`): the API server's answers
(SubjectAccessReview, `kubectl auth can-i`) beside analysis.rbac's, who-can, the RBAC risk
table, and short-lived service-account tokens (kept in the session, never shown)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aks_runbook.cluster.kube import Client

if TYPE_CHECKING:
    from aks_runbook.notebook.session import Session


class Access:
    def __init__(self, session: Session):
        self.session, self.env, self.runner = session, session.env, session.runner
        self._tokens: dict[tuple[str, str], str] = {}  # never shown, never recorded

    def matrix(self, subjects: dict[str, dict], requests: list[str], namespace: str,
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

        if self.session.skipped(f"{by}: {len(subjects)} subjects x {len(requests)} requests "
                                f"in namespace {namespace}"):
            return pd.DataFrame()
        cells = [(label, spec, request) for label, spec in subjects.items()
                 for request in requests]
        if by == "SubjectAccessReview":
            client = self.session.live_client()

            def fetch() -> list[bool]:
                authorization = client.AuthorizationV1Api()
                return [self.session.scope.access_review(
                    authorization, access_review(spec, request, namespace), namespace)
                    for _, spec, request in cells]

            allowed = self.session.read(f"SubjectAccessReview {namespace}: {len(subjects)} "
                                        f"subjects x {len(requests)} requests", fetch)
        elif by == "analysis.rbac":
            objects = self.session.state().objects
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
        result = self.session.cluster.kubectl(
            f"auth can-i {request} --namespace {namespace}{who}", step="can-i", check=False)
        return None if result is None else result.stdout.strip()

    def who_can(self, request: str, namespace: str | None = None):
        """analysis.rbac.who_can on the cluster's Roles and bindings: who may do this request
        ("verb resource" as kubectl spells it) in the namespace, one row per binding."""
        import pandas as pd

        from aks_runbook.analysis import rbac

        columns = list(rbac.FIELDS)
        if self.session.skipped(f"who can {request} (reads the cluster's Roles and bindings)"):
            return pd.DataFrame(columns=columns)
        verb, (resource, sub, group) = _request(request)
        self.session.scope.rbac_view_note()
        rows = rbac.who_can(self.session.state().objects, verb, resource, namespace, sub or None,
                            group)
        return pd.DataFrame([r.as_dict() for r in rows], columns=columns)

    def who_can_explorer(self, verbs: list[str], resources: list[str],
                        namespaces: list[str]) -> None:
        """widgets.whocan on the cluster's Roles and bindings: pick a verb, a resource and a
        namespace, see who can and through which binding and rule. Headless: every
        combination offered, as a table."""
        from aks_runbook.notebook.widgets.whocan import WhoCan, whocan_explorer

        if self.session.skipped("who-can explorer (reads the cluster's Roles and bindings)"):
            return
        whocan_explorer(WhoCan(self.session.state().objects), verbs, resources, namespaces)

    def rbac_risks(self):
        """analysis.rbac.risks over the whole cluster's Roles and bindings, as a table (the
        subjects the control plane uses by design left out)."""
        import pandas as pd

        from aks_runbook.analysis import rbac

        columns = list(rbac.FIELDS)
        if self.session.skipped("RBAC risk table of the cluster's Roles and bindings"):
            return pd.DataFrame(columns=columns)
        self.session.scope.allows("the RBAC risk table over the whole cluster")
        self.session.scope.rbac_view_note()  # what an attendee sees instead: their namespace's
        rows = rbac.risks(self.session.state().objects)
        return pd.DataFrame([r.as_dict() for r in rows], columns=columns)

    def request_token(self, namespace: str, account: str, seconds: int = 600) -> None:
        """A short-lived token for a service account from the TokenRequest API. The token is a
        secret: it stays in this session (never printed, never recorded); what is shown is
        who it is for, its audiences and its lifetime."""
        if self.session.skipped(f"TokenRequest for serviceaccount {namespace}/{account}"):
            return

        def fetch() -> dict[str, Any]:
            response = self.session.api().CoreV1Api().create_namespaced_service_account_token(
                account, namespace, {"spec": {"expirationSeconds": seconds}})
            self._tokens[(namespace, account)] = response.status.token
            return {"audiences": response.spec.audiences,
                    "expirationSeconds": response.spec.expiration_seconds}

        info = self.session.read(f"TokenRequest {namespace}/{account} {seconds}s", fetch)
        print(f"TokenRequest: a token for system:serviceaccount:{namespace}:{account}, "
              f"audience {', '.join(info['audiences'])}, valid for "
              f"{info['expirationSeconds']} s (the token itself is a secret: not shown)")

    def check_token(self, namespace: str, account: str, until_rejected: bool = False) -> None:
        """What the API server answers for the session's token of this service account: a
        TokenReview, and a request made with the token (a SelfSubjectReview, what `kubectl
        auth whoami` sends). With until_rejected, wait until it is refused."""
        if self.session.skipped(f"TokenReview of the token for {namespace}/{account}"):
            return

        def fetch() -> dict[str, Any]:
            token = self._tokens[(namespace, account)]
            if self.session.scope.attendee:  # TokenReview is cluster-wide: the request tells
                request = self._request_with(token)
                return {"authenticated": request.startswith("201"), "user": None,
                        "error": "", "request": request}
            status = self.session.api().AuthenticationV1Api().create_token_review(
                {"spec": {"token": token}}).status
            # "[invalid bearer token, <why>]": kept as <why> (the transcript's redaction would
            # mask the words after "bearer")
            why = (status.error or "").removeprefix("[invalid bearer token, ").removesuffix("]")
            return {"authenticated": bool(status.authenticated),
                    "user": status.user.username if status.authenticated else None,
                    "error": why, "request": self._request_with(token)}

        call = f"TokenReview {namespace}/{account}"
        if until_rejected:
            answer = self.session.cluster.wait_until(
                call, fetch, lambda a: not a["authenticated"], step="token refused")
        else:
            answer = self.session.read(call, fetch)
        if not answer["authenticated"]:
            self._tokens.pop((namespace, account), None)
        if self.session.scope.allows("the TokenReview (a cluster-wide API)"):
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

        config = copy.copy(self.session.api().api_client.configuration)
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


def access_review(spec: dict, request: str, namespace: str) -> dict:
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
