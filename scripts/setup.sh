#!/usr/bin/env bash
# Set up everything the toolkit needs on a fresh Debian machine: a Python venv with the
# pinned requirements (ansible 12.3.0 bundles the amazon.aws and community.aws collections).
# Idempotent: re-runs only when the requirements change.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  echo "warning: ansible 12.3.0 is pinned for Python 3.11; found $("$PYTHON" --version 2>&1)" >&2
fi
if ! "$PYTHON" -m venv --help >/dev/null 2>&1; then
  echo "Installing python3-venv (needs root)..."
  apt-get update -qq && apt-get install -y -qq python3-venv
fi

stamp=.venv/.requirements.sha256
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [[ ! -x .venv/bin/python || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "Creating the Python environment in .venv ..."
  "$PYTHON" -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -r requirements-dev.txt
  echo "$want" > "$stamp"
  echo "Python environment ready: $(.venv/bin/python -c 'import ansible.release as r; print("ansible-core", r.__version__)')"
fi

# This folder is the collection shop.aws (galaxy.yml): link it into the venv's collections,
# beside the amazon.aws and community.aws that the ansible package bundles, so Ansible and
# Python (the unit tests) resolve shop.aws to this working tree.
collections=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ansible_collections
mkdir -p "$collections/shop"
ln -sfn "$PWD" "$collections/shop/aws"
