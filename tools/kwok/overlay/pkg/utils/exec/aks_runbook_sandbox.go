//go:build !windows

// Added by aks-runbook at build time (see lib/aks_runbook/targets/binaries.py, KWOK_OVERLAY):
// command() in cmd_other.go calls aksRunbookCommand instead of exec.CommandContext.

package exec

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
)

// AKS_RUNBOOK_EXEC_SANDBOX, when set, is a JSON array of strings: the command prefix that
// confines every command kwok runs on this machine (kubectl exec, port-forward). The command
// then runs as: prefix... KEY=VALUE... name args..., where KEY=VALUE are the environment
// variables kwok was asked to give it, so the prefix must end with a program that takes
// them (env -i PATH=...). The sandbox never sees kwok's own environment.
const aksRunbookSandboxEnv = "AKS_RUNBOOK_EXEC_SANDBOX"

func aksRunbookCommand(ctx context.Context, name string, arg ...string) *exec.Cmd {
	raw, set := os.LookupEnv(aksRunbookSandboxEnv)
	if !set {
		return exec.CommandContext(ctx, name, arg...)
	}
	var prefix []string
	if err := json.Unmarshal([]byte(raw), &prefix); err != nil || len(prefix) == 0 {
		// A sandbox was asked for: never fall back to running unconfined.
		return exec.CommandContext(ctx, "/bin/sh", "-c",
			"echo 'kwok: "+aksRunbookSandboxEnv+" is not a non-empty JSON array of strings' >&2; exit 126")
	}
	argv := make([]string, 0, len(prefix)+len(arg)+8)
	argv = append(argv, prefix[1:]...)
	argv = append(argv, GetExecOptions(ctx).Env...)
	argv = append(argv, name)
	argv = append(argv, arg...)
	return exec.CommandContext(ctx, prefix[0], argv...)
}
