#!/usr/bin/env bash
# Everything CI runs: set-up (venv, podman, the base container image), lint (yamllint,
# ansible-lint production profile, ruff), ansible-test sanity of the collection, unit tests,
# integration tests against the local AWS emulator (the bake included), and the Molecule scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/containers.sh
export PATH="$PWD/.venv/bin:$PATH"
export CONTAINERS_CONF="$PWD/tools/podman/containers.conf"

echo "== yamllint"; yamllint -s .
echo "== ansible-lint"; ansible-lint --offline
echo "== ruff"; ruff check .
echo "== role READMEs"; python scripts/role_docs.py --check
echo "== ansible-test sanity"; ./scripts/sanity.sh
echo "== pytest"; pytest "$@"
echo "== molecule webstack"; molecule test -s webstack
