"""What the commands share: the error that ends a command with a one-line message, and the
objects to analyse (a cluster through a kubeconfig, or manifest files)."""

from __future__ import annotations

import argparse
import sys

CHAPTER_NUMBERS = {"overview": "01", "network": "02", "auth": "03", "maintenance": "04"}


class CannotRun(RuntimeError):
    """The command cannot do its job (no cluster, bad input file); exit non-zero."""


def source_args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or "
                                          "~/.kube/config)")
    sub.add_argument("--context", help="kubeconfig context (default: the current one)")
    sub.add_argument("--from-files", nargs="+", metavar="PATH",
                     help="analyse manifest files or folders (YAML or JSON) instead of a "
                          "cluster")


def kube_client(args: argparse.Namespace):
    from kubernetes import config as kubeconfig

    from aks_runbook.cluster.kube import Client

    try:
        api_client = kubeconfig.new_client_from_config(config_file=args.kubeconfig,
                                                       context=args.context)
    except (kubeconfig.ConfigException, OSError) as error:
        raise CannotRun(f"cannot load the kubeconfig ({args.kubeconfig or '~/.kube/config'}): "
                        f"{error}") from None
    return Client(api_client)


def read_objects(args: argparse.Namespace):
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    from aks_runbook.cluster.objects import plain_read, read_objects

    client = kube_client(args)
    client.api_client.configuration.retries = 1
    try:
        return read_objects(plain_read, client)
    except (ApiException, HTTPError, OSError) as error:
        raise CannotRun(f"cannot read the cluster: {str(error).splitlines()[0]}") from None


def objects_of(args: argparse.Namespace) -> dict[str, list[dict]]:
    """The objects to analyse: from manifest files (--from-files) or the live cluster."""
    return view_of(args)[0]


def view_of(args: argparse.Namespace) -> tuple[dict[str, list[dict]], dict]:
    """The objects to analyse, and where each was read from files: (kind, namespace or "",
    name) -> cluster.objects.Source; nothing for a live cluster."""
    if not args.from_files:
        return read_objects(args), {}
    from aks_runbook.cluster.objects import ManifestError, load_files

    try:
        manifests = load_files(args.from_files)
    except ManifestError as error:
        raise CannotRun(str(error)) from None
    if note := manifests.note():
        print(note, file=sys.stderr)
    return manifests.objects, manifests.sources


def source_of(sources: dict, resource: str):
    """Where a finding's resource ("Kind/namespace/name" or "Kind/name") was read, if known."""
    kind, *rest = resource.split("/")
    if not rest:
        return None
    return sources.get((kind, rest[0] if len(rest) > 1 else "", rest[-1]))


def no_cache_arg(sub: argparse.ArgumentParser) -> None:
    """`--no-cache`: validate az lines afresh (main() sets AKS_RUNBOOK_NO_CACHE, which the
    notebooks' kernels and the training's runs inherit)."""
    sub.add_argument("--no-cache", action="store_true",
                     help="validate az lines afresh instead of reusing cached verdicts")
