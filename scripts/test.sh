#!/usr/bin/env bash
# Everything CI runs: set-up, lint (yamllint, ansible-lint production profile, ruff),
# unit tests, integration tests against the local AWS emulator, and the Molecule scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "== yamllint"; yamllint -s .
echo "== ansible-lint"; ansible-lint --offline
echo "== ruff"; ruff check .
echo "== role READMEs"; python scripts/role_docs.py --check
echo "== pytest"; pytest "$@"
echo "== molecule"; molecule test -s aws_stack
