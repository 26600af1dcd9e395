#!/usr/bin/env bash
# Everything CI runs: set-up (venv, podman, the base container images, the execution
# environment), lint (yamllint, ansible-lint production profile, ruff), ansible-test sanity of
# the collection, unit tests, integration tests against the local AWS emulator (the bake and a
# run inside the execution environment included), and the Molecule scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each stage's start, with the time: where a run's minutes go.
stage() { echo "== $1 ($(date -u +%H:%M:%S))"; }
stage "set-up: the venv"
./scripts/setup.sh
stage "set-up: podman and the base images"
./scripts/containers.sh
# The live shop's browser test drives Debian's Chromium with its chromedriver.
if ! dpkg-query -W -f='${Status}' chromium-driver 2>/dev/null | grep -q "install ok installed"; then
  echo "Installing chromium and chromium-driver (needs root)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
export PATH="$PWD/.venv/bin:$PATH"
export CONTAINERS_CONF="$PWD/tools/podman/containers.conf"

# The execution environment builds (mostly downloads and image layers) while the linters run, and
# so does the Molecule scenario (one container's converge at a time: most of the second core is
# free then). Molecule runs on into pytest's first minutes (~9 of its ~11) and is awaited at the end.
mkdir -p logs
./scripts/build_ee.sh > logs/build_ee.log 2>&1 &
ee_build=$!
molecule test -s webstack > logs/molecule.log 2>&1 &
molecule_run=$!
trap 'kill "$ee_build" "$molecule_run" 2>/dev/null || true' EXIT

stage "yamllint"; yamllint -s .
stage "ansible-lint"; ansible-lint --offline
stage "ruff"; ruff check .
stage "role READMEs"; python scripts/role_docs.py --check
stage "ansible-test sanity"; ./scripts/sanity.sh
stage "execution environment"
if ! wait "$ee_build"; then
  tail -50 logs/build_ee.log
  echo "scripts/build_ee.sh failed (whole log: logs/build_ee.log)" >&2
  exit 1
fi
echo "localhost/shop-ee:1.0.0 built"
stage "pytest"; pytest_rc=0; pytest "$@" || pytest_rc=$?
stage "molecule webstack (run beside the above: logs/molecule.log)"
if ! wait "$molecule_run"; then
  tail -80 logs/molecule.log
  echo "molecule test -s webstack failed (whole log: logs/molecule.log)" >&2
  exit 1
fi
grep -E "passed|failed" logs/molecule.log | tail -3
stage "done"
exit "$pytest_rc"
