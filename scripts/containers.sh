#!/usr/bin/env bash
# Set up what the container-based tests and the local bake need on a fresh Debian machine:
# podman with runc (crun fails on these hosts: "cgroups in hybrid mode not supported"),
# mmdebstrap, and the Debian 12 base image built locally, since no registry is reachable.
# Idempotent: the image is rebuilt only when its recipe (this file) changes.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF="$PWD/tools/podman/containers.conf"

IMAGE=${BASE_IMAGE:-localhost/shop-debian:12}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# What every test host needs to boot systemd and be driven by Ansible.
INCLUDE=python3,python3-apt,systemd,systemd-sysv,dbus,sudo,iproute2,procps,ca-certificates,curl,gnupg

missing=()
for pkg in podman runc mmdebstrap; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "Installing ${missing[*]} (needs root)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

recipe=$(printf '%s\n' "$INCLUDE" "$MIRROR" | sha256sum | cut -c1-16)
if [[ $(podman image inspect --format '{{ index .Labels "shop.recipe" }}' "$IMAGE" 2>/dev/null) == "$recipe" ]]; then
  exit 0
fi
echo "Building the base image $IMAGE (Debian 12, systemd) ..."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mmdebstrap --quiet --variant=apt --include="$INCLUDE" bookworm "$work/rootfs.tar" "$MIRROR"
podman import --quiet --change 'CMD ["/sbin/init"]' --change "LABEL shop.recipe=$recipe" \
  "$work/rootfs.tar" "$IMAGE" >/dev/null
echo "Base image ready: $IMAGE"
