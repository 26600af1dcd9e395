#!/usr/bin/env bash
# What a run would change, as a plan to review before touching an environment: the playbook
# (site.yml unless the first argument names another) in check mode with diffs, the
# shop.aws.plan callback summing up each AWS resource to add, change, replace or destroy with
# its attributes before -> after. The plan is also written as plan.md and plan.json to
# reports/plan/<UTC>/ (or $SHOP_PLAN_DIR), to attach to a change request.
#
#   scripts/plan.sh -i inventories/production [ansible-playbook options]
#
# Exit status as Terraform's -detailed-exitcode: 0 nothing would change, 2 changes are pending
# (drift, for a scheduler or CI), 1 the run failed.
set -uo pipefail
cd "$(dirname "$0")/.."
playbook=site.yml
if [[ $# -gt 0 && $1 == *.yml ]]; then playbook=$1; shift; fi
export SHOP_PLAN_DIR=${SHOP_PLAN_DIR:-reports/plan/$(date -u +%Y%m%dT%H%M%SZ)}
export ANSIBLE_CALLBACKS_ENABLED="${ANSIBLE_CALLBACKS_ENABLED:+$ANSIBLE_CALLBACKS_ENABLED,}shop.aws.plan"
bin=$(dirname "$(command -v ansible-playbook || echo .venv/bin/ansible-playbook)")
"$bin/ansible-playbook" "$playbook" --check --diff "$@"
rc=$?
if [[ $rc -ne 0 ]]; then
  # ansible-playbook says 2 when a host failed: here 2 means changes pending, so a failure is 1.
  echo "plan: the check run failed (ansible-playbook exit status $rc): no plan" >&2
  exit 1
fi
echo "plan: $SHOP_PLAN_DIR/plan.md"
python3 - "$SHOP_PLAN_DIR/plan.json" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
sys.exit(2 if any(plan["counts"].values()) else 0)
PY
