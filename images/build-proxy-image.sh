#!/usr/bin/env bash
# Builds the proxy image WITHOUT a container daemon and without pulling anything: the base is made
# here from the machine's own Node.js binary and the shared libraries it links (ldd), plus
# /usr/bin/env (the launcher's `env -S` shebang) and a passwd entry for the proxy user; the app is
# `pnpm deploy --prod` of @tsmesh/proxy (build it first: pnpm exec nx run @tsmesh/proxy:build).
# buildah (Debian's 1.28, vfs storage under the work dir, chroot isolation) assembles and commits
# it as an OCI archive, then runs `tsmesh-proxy --help` from a container made from that archive.
#
#   images/build-proxy-image.sh [OUT_DIR]      (default /tmp/tsmesh-images; run as root)
#
# Not in this locally made image (the Dockerfile has them): iptables, so `tsmesh-proxy init`
# (linkerd-init) cannot run from it; only the proxy itself.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-/tmp/tsmesh-images}
# shellcheck source-path=SCRIPTDIR source=lib/oci-archive.sh
source "$ROOT/images/lib/oci-archive.sh"
scratch_dir "$ROOT" tsmesh-image-build
STORE=(--root "$WORK/storage" --runroot "$WORK/run" --storage-driver vfs)
# The containers go before the scratch space that holds their storage.
trap 'buildah "${STORE[@]}" rm --all >/dev/null 2>&1 || true; scratch_cleanup' EXIT
command -v buildah >/dev/null || { echo "build-proxy-image.sh: buildah is not installed (apt-get install buildah)" >&2; exit 1; }
[[ -f $ROOT/packages/proxy/dist/main.js ]] || { echo "build-proxy-image.sh: build the proxy first (pnpm exec nx run @tsmesh/proxy:build)" >&2; exit 1; }
mkdir -p "$OUT"
log() { printf '[build-proxy-image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

rootfs=$WORK/rootfs
mkdir -p "$rootfs"/{etc,tmp,opt/tsmesh,usr/local/bin}
chmod 1777 "$rootfs/tmp"
# The binaries and every shared library they load, at the same paths.
copy_with_libs "$rootfs" "$(command -v node)" /usr/bin/node
copy_with_libs "$rootfs" /usr/bin/env /usr/bin/env
printf 'root:x:0:0:root:/root:/sbin/nologin\nproxy:x:2102:2102:tsmesh proxy:/tmp:/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nproxy:x:2102:\n' >"$rootfs/etc/group"
log "base: $(du -sh "$rootfs" | cut -f1) (node $(node --version) and its libraries)"

log "packing @tsmesh/proxy (pnpm deploy --prod)"
PNPM=${PNPM:-$(command -v pnpm || echo "$ROOT/.tsmesh-tmp/bin/pnpm")}
(cd "$ROOT" && COREPACK_INTEGRITY_KEYS=0 "$PNPM" --filter @tsmesh/proxy deploy --legacy --prod --prefer-offline "$rootfs/opt/tsmesh/proxy" >&2)
ln -s /opt/tsmesh/proxy/bin/tsmesh-proxy.js "$rootfs/usr/local/bin/tsmesh-proxy"
log "rootfs: $(du -sh "$rootfs" | cut -f1)"

ctr=$(buildah "${STORE[@]}" from scratch)
buildah "${STORE[@]}" copy "$ctr" "$rootfs" / >/dev/null
buildah "${STORE[@]}" config --user 2102:2102 --cmd tsmesh-proxy \
  --env PATH=/usr/local/bin:/usr/bin:/bin --workingdir /tmp \
  --label org.opencontainers.image.title=tsmesh-proxy "$ctr"
archive=$OUT/tsmesh-proxy.oci.tar
rm -f "$archive"
buildah "${STORE[@]}" commit --format oci "$ctr" "oci-archive:$archive:ghcr.io/tsmesh/proxy:local" >/dev/null
log "image: $archive ($(du -h "$archive" | cut -f1))"

# Run it: a container from the archive, `tsmesh-proxy --help` as the image's user.
run=$(buildah "${STORE[@]}" from "oci-archive:$archive")
buildah "${STORE[@]}" run --isolation chroot --user 2102:2102 "$run" -- tsmesh-proxy --help
log "ran tsmesh-proxy --help from the image"
echo "$archive"
