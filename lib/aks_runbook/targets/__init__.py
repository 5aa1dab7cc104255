"""Where the runbook runs: the embedded local cluster, kind, or AKS."""
