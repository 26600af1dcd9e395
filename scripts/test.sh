#!/usr/bin/env bash
# Everything CI runs: set-up (venv, podman, the base container images, the execution
# environment), lint (yamllint, ansible-lint production profile, ruff), ansible-test sanity of
# the collection, unit tests, integration tests against the local AWS emulator (the bake and a
# run inside the execution environment included), and the Molecule scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/containers.sh
# The live shop's browser test drives Debian's Chromium with its chromedriver.
if ! dpkg-query -W -f='${Status}' chromium-driver 2>/dev/null | grep -q "install ok installed"; then
  echo "Installing chromium and chromium-driver (needs root)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
export PATH="$PWD/.venv/bin:$PATH"
export CONTAINERS_CONF="$PWD/tools/podman/containers.conf"

# The execution environment builds (mostly downloads and image layers) while the linters run.
mkdir -p logs
./scripts/build_ee.sh > logs/build_ee.log 2>&1 &
ee_build=$!

echo "== yamllint"; yamllint -s .
echo "== ansible-lint"; ansible-lint --offline
echo "== ruff"; ruff check .
echo "== role READMEs"; python scripts/role_docs.py --check
echo "== ansible-test sanity"; ./scripts/sanity.sh
echo "== execution environment"
if ! wait "$ee_build"; then
  tail -50 logs/build_ee.log
  echo "scripts/build_ee.sh failed (whole log: logs/build_ee.log)" >&2
  exit 1
fi
echo "localhost/shop-ee:1.0.0 built"
echo "== pytest"; pytest "$@"
echo "== molecule webstack"; molecule test -s webstack
