#!/usr/bin/env bash
# Build the whole stack on the local AWS emulator and print its outputs.
# The emulator keeps running afterwards (explore it with boto3 or the AWS CLI at
# http://127.0.0.1:5000); stop it with: .venv/bin/python tools/emulator/awsemu.py stop
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/python tools/emulator/awsemu.py start
export PATH="$PWD/.venv/bin:$PATH"
ansible-playbook site.yml -i inventories/local "$@"
