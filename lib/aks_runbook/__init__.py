"""aks-runbook: an executable workshop and runbook for running AKS securely."""
