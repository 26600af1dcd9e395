#!/usr/bin/env bash
# Build the execution environment localhost/shop-ee:1.0.0 (execution-environment.yml) with
# ansible-builder and podman: the collection's artifact and the certificate authorities pip must
# trust go into the build context first. Needs scripts/setup.sh and scripts/containers.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF="$PWD/tools/podman/containers.conf"
rm -rf build/ee
mkdir -p build/ee/collections
.venv/bin/ansible-galaxy collection build --force --output-path build/ee/collections . >/dev/null
cp "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" build/ee/ca-certificates.crt
.venv/bin/ansible-builder build --container-runtime podman --file execution-environment.yml \
  --context build/ee/context --prune-images -v 1 "$@"
