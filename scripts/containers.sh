#!/usr/bin/env bash
# Set up what the container-based tests, the local fleet and the local bake need on a fresh
# Debian machine: haproxy and nginx for the emulator's data plane, podman with runc (crun
# fails on these hosts: "cgroups in hybrid mode not supported"), mmdebstrap, and the Debian 12
# base images built locally, since no registry is reachable.
# Idempotent: the image is rebuilt only when its recipe (this file) changes.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF="$PWD/tools/podman/containers.conf"

IMAGE=${BASE_IMAGE:-localhost/shop-debian:12}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# What every test host needs to boot systemd and be driven by Ansible.
INCLUDE=python3,python3-apt,systemd,systemd-sysv,dbus,sudo,iproute2,procps,ca-certificates,curl,gnupg

missing=()
# haproxy and nginx: the emulator's data plane, the load balancers and CloudFront answering
# (tools/emulator/dataplane.py).
for pkg in podman runc mmdebstrap haproxy nginx-light; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "Installing ${missing[*]} (needs root)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# build IMAGE PACKAGES [mmdebstrap options...]: a Debian 12 image booting systemd, rebuilt
# only when its recipe (packages, mirror, options) changes.
build() {
  local image=$1 packages=$2
  shift 2
  local recipe
  recipe=$(printf '%s\n' "$packages" "$MIRROR" "$@" | sha256sum | cut -c1-16)
  if [[ $(podman image inspect --format '{{ index .Labels "shop.recipe" }}' "$image" 2>/dev/null) == "$recipe" ]]; then
    return 0
  fi
  echo "Building $image (Debian 12, systemd) ..."
  local rootfs=$work/${image//[\/:]/_}.tar
  mmdebstrap --quiet --variant=apt --include="$packages" "$@" bookworm "$rootfs" "$MIRROR"
  podman import --quiet --change 'CMD ["/sbin/init"]' --change "LABEL shop.recipe=$recipe" \
    "$rootfs" "$image" >/dev/null
  echo "Image ready: $image"
}

# The three builds are independent (each from Debian's mirror): at once, mostly downloads.
pids=()
build "$IMAGE" "$INCLUDE" &
pids+=($!)
# The local fleet's stand-ins for RDS (MariaDB) and ElastiCache (Redis), run by the emulator
# (tools/emulator/fleet.py): both listen on the container's network, as the services would.
# The migration tests use it for their source, target and migration host (mydumper, PyMySQL).
build "${BACKING_IMAGE:-localhost/shop-backing:12}" "$INCLUDE,mariadb-server,redis-server,mydumper,python3-pymysql" \
  --customize-hook='printf "[mysqld]\nbind-address = 0.0.0.0\n" > "$1/etc/mysql/mariadb.conf.d/90-shop.cnf"' \
  --customize-hook='sed -i -e "s/^bind .*/bind 0.0.0.0/" -e "s/^protected-mode yes/protected-mode no/" "$1/etc/redis/redis.conf"' &
pids+=($!)
# The execution environment's base (execution-environment.yml, scripts/build_ee.sh): Python with
# pip and venv for ansible-builder's steps, the MySQL client and mydumper for the migration role,
# SSH and git for AWX's project and host connections.
build "${EE_BASE_IMAGE:-localhost/shop-ee-base:12}" \
  "$INCLUDE,python3-pip,python3-venv,default-mysql-client,mydumper,openssh-client,git" &
pids+=($!)
failed=0
for pid in "${pids[@]}"; do
  wait "$pid" || failed=1
done
if ((failed)); then
  echo "scripts/containers.sh: an image build failed (its mmdebstrap output is above)" >&2
  exit 1
fi
