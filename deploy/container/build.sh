#!/usr/bin/env bash
# Builds the gateway's container image with podman: `npm run container:build [-- <tag>]`.
# No image comes from a container registry: the base is a minimal Debian trixie made with
# debootstrap from Debian's mirror (once, then kept as localhost/rtg-debian:trixie), and
# the image installs Node.js from Debian's packages and the dependencies from npm.
# Needs root (debootstrap, rootful podman), podman and debootstrap.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
image=${1:-localhost/realtime-gateway:latest}
base=localhost/rtg-debian:trixie
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if ! podman image exists "$base"; then
  rootfs=$(mktemp -d /var/tmp/rtg-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  echo "container: making the base image $base with debootstrap (once)" >&2
  debootstrap --variant=minbase trixie "$rootfs" "$mirror" >&2
  tar -C "$rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$base" >&2
fi

(cd "$repo" && npm run build >&2)
# The build context holds only what the Containerfile copies, not the 400 MB of node_modules.
context=$(mktemp -d)
trap 'rm -rf "$context" ${rootfs:+"$rootfs"}' EXIT
cp "$repo/package.json" "$repo/package-lock.json" "$context/"
cp -r "$repo/dist" "$context/dist"
# A proxy's CA that npm trusts here (NODE_EXTRA_CA_CERTS) is lent to the `npm ci` step, not copied in.
extra_ca="$context/.extra-ca"
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r "$NODE_EXTRA_CA_CERTS" ]; then cp "$NODE_EXTRA_CA_CERTS" "$extra_ca"; else : > "$extra_ca"; fi
podman build --network host --build-arg BASE="$base" --secret id=extra_ca,src="$extra_ca" \
  -f "$repo/deploy/container/Containerfile" -t "$image" "$context" >&2
echo "$image"
