"""The cluster side: the Kubernetes client and one view of Kubernetes objects,
read from a cluster or from files."""
