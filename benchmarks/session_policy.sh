#!/usr/bin/env bash
# Benchmark (a figure, not a test): the session-limit addon's cost on a real
# Odoo 18.0, JSON-RPC requests per second with the addon vs without it,
# interleaved (benchmarks/session_policy.py). Runs against the demo's lab
# (scripts/demo.sh first); leaves it as the role made it (addon installed,
# odoo.conf restored; AIDE will list the restored file's new ctime).
#   benchmarks/session_policy.sh [CONTAINER]      ROUNDS=3 SECONDS_PER_RUN=20
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=../lab/env.sh
. lab/env.sh
app=${1:-odoo-hipaa-lab-app}
ip=$(podman inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$app")
exec .venv/bin/python benchmarks/session_policy.py "$app" "$ip" "$app" "$root/.lab/pki/ca.crt"
