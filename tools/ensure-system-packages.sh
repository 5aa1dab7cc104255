#!/usr/bin/env bash
# Make sure the Debian packages the runbook and its tests need are installed:
#   tools/ensure-system-packages.sh chromium fonts-noto-cjk bubblewrap
# Installs the missing ones with apt-get (as root), saying so and showing progress. Without root
# or without apt-get it installs nothing and fails naming the one command that does.
#   chromium        the browser test's headless browser (/usr/lib/chromium/chromium)
#   fonts-noto-cjk  so that Japanese text renders in the browser (screenshots)
#   bubblewrap      confines the local cluster's `kubectl exec` (bwrap) and the hub's attendees
#   npm             installs the hub's proxy (configurable-http-proxy) into tools/npm/
set -euo pipefail

present() {
    case "$1" in
        chromium) [[ -x "${AKS_RUNBOOK_CHROMIUM:-/usr/lib/chromium/chromium}" ]] ;;
        bubblewrap) command -v bwrap >/dev/null ;;
        npm) command -v npm >/dev/null && command -v node >/dev/null ;;
        *) dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" ;;
    esac
}

missing=()
for package in "$@"; do
    present "$package" || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

command_line="apt-get install -y ${missing[*]}"
if ! command -v apt-get >/dev/null; then
    echo "error: missing system packages: ${missing[*]}; this machine has no apt-get." >&2
    echo "Install them with its package manager (Debian/Ubuntu: sudo $command_line)." >&2
    exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "error: missing system packages: ${missing[*]}. Install them with:" >&2
    echo "    sudo $command_line" >&2
    exit 1
fi

echo "Installing the Debian packages ${missing[*]} (needed by the runbook and its tests)..."
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
    echo "  updating the package lists..."
    apt-get update -qq
fi
# apt-get's machine-readable status (fd 3) turned into one line per 10 %, per phase.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
apt-get install -y -qq -o APT::Status-Fd=3 "${missing[@]}" 3>&1 >"$log" 2>&1 |
    awk -F: '
        $1 == "dlstatus" { phase = "download" }
        $1 == "pmstatus" { phase = "install" }
        phase != "" {
            step = int($3 / 10) * 10
            if (phase != last_phase || step > last_step) {
                printf "  %-8s %3d%%\n", phase, step; fflush()
                last_phase = phase; last_step = step
            }
        }'
status=${PIPESTATUS[0]}
if [[ $status -ne 0 ]]; then
    cat "$log" >&2
    echo "error: apt-get failed (exit $status): $command_line" >&2
    exit 1
fi
for package in "${missing[@]}"; do
    present "$package" || { echo "error: $package still missing after apt-get" >&2; exit 1; }
done
echo "Installed ${missing[*]}."
