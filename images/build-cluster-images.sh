#!/usr/bin/env bash
# Builds the images a `testenv up --cluster` node needs, as OCI image archives, without a container
# daemon, a registry or any download: every file comes from this machine.
#
#   images/build-cluster-images.sh OUT_DIR [COREDNS_BINARY]
#
# Writes to OUT_DIR (created; existing archives are replaced):
#   pause.oci.tar      tsmesh.local/pause:3.10        the pod sandbox: images/pause/pause.c, static
#   node-base.oci.tar  tsmesh.local/node-base:<node>  the machine's Node.js binary and the shared
#                                                     libraries it links (ldd), /bin/sh (dash), a
#                                                     passwd/group with root, nobody and the mesh
#                                                     users (2102 proxy, 2103 controllers), /tmp
#   coredns.oci.tar    tsmesh.local/coredns:<version> the static CoreDNS binary given (only when given)
#   images.env         NAME=reference lines for the above
#
# Each archive is an OCI image layout (oci-layout, index.json, blobs/sha256/…) with one
# uncompressed layer, named by the index annotations io.containerd.image.name (full reference, what
# `ctr images import` uses) and org.opencontainers.image.ref.name. Layers are made with a fixed
# mtime, owner and file order, so the same inputs give the same digests.
# Needs: gcc with a static libc (libc6-dev), tar, sha256sum, ldd.
set -euo pipefail
OUT=${1:?usage: build-cluster-images.sh OUT_DIR [COREDNS_BINARY]}
COREDNS_BIN=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tsmesh-cluster-images.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
log() { printf '[build-cluster-images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# put_blob LAYOUT FILE -> prints the digest hex; moves FILE into LAYOUT/blobs/sha256/.
put_blob() {
  local layout=$1 file=$2 hex
  hex=$(sha "$file")
  mv "$file" "$layout/blobs/sha256/$hex"
  printf '%s' "$hex"
}

# json_array A B C -> ["A","B","C"] (values must not contain quotes or backslashes)
json_array() {
  local out='' v
  for v in "$@"; do
    case $v in *'"'* | *'\'*) echo "build-cluster-images.sh: unsupported character in $v" >&2; exit 1 ;; esac
    out+="${out:+,}\"$v\""
  done
  printf '[%s]' "$out"
}

# oci_archive ROOTFS REFERENCE OUT_TAR ENTRYPOINT_JSON CMD_JSON USER
oci_archive() {
  local rootfs=$1 ref=$2 out=$3 entrypoint=$4 cmd=$5 user=$6
  local layout=$WORK/layout-$(basename "$out" .tar)
  rm -rf "$layout"
  mkdir -p "$layout/blobs/sha256"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"

  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$rootfs" -cf "$WORK/layer.tar" .
  local layer_size layer_hex
  layer_size=$(size "$WORK/layer.tar")
  layer_hex=$(put_blob "$layout" "$WORK/layer.tar")

  # Uncompressed layer: its digest is also its diff ID.
  printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":{"User":"%s","Env":["PATH=/usr/local/bin:/usr/bin:/bin"],"Entrypoint":%s,"Cmd":%s,"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"images/build-cluster-images.sh"}]}' \
    "$user" "$entrypoint" "$cmd" "$layer_hex" >"$WORK/config.json"
  local config_size config_hex
  config_size=$(size "$WORK/config.json")
  config_hex=$(put_blob "$layout" "$WORK/config.json")

  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$config_hex" "$config_size" "$layer_hex" "$layer_size" >"$WORK/manifest.json"
  local manifest_size manifest_hex
  manifest_size=$(size "$WORK/manifest.json")
  manifest_hex=$(put_blob "$layout" "$WORK/manifest.json")

  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest_hex" "$manifest_size" "$ref" "${ref##*:}" >"$layout/index.json"

  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$layout" -cf "$out.tmp" .
  mv -f "$out.tmp" "$out"
  log "$ref -> $out ($(du -h "$out" | cut -f1))"
}

# Copies a binary and every shared library it loads (same paths) into ROOTFS.
copy_with_libs() {
  local rootfs=$1 bin=$2 dest=$3 lib
  install -D -m 0755 "$(readlink -f "$bin")" "$rootfs$dest"
  for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
    [[ -e $rootfs$lib ]] || install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$lib"
  done
}

base_files() {
  local rootfs=$1
  mkdir -p "$rootfs"/{etc,tmp,proc,sys,dev,run,var/run}
  chmod 1777 "$rootfs/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nproxy:x:2102:2102:tsmesh proxy:/tmp:/sbin/nologin\ncontroller:x:2103:2103:tsmesh controller:/tmp:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nproxy:x:2102:\ncontroller:x:2103:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
  # The kubelet bind-mounts its own /etc/hosts and /etc/resolv.conf over these.
  : >"$rootfs/etc/hosts"
  : >"$rootfs/etc/resolv.conf"
}

# --- pause ---------------------------------------------------------------------------------------
PAUSE_REF=tsmesh.local/pause:3.10
r=$WORK/pause-rootfs
mkdir -p "$r"
gcc -Os -static -o "$r/pause" "$HERE/pause/pause.c"
strip "$r/pause" 2>/dev/null || true
oci_archive "$r" "$PAUSE_REF" "$OUT/pause.oci.tar" '["/pause"]' 'null' '65535:65535'

# --- node-base -----------------------------------------------------------------------------------
NODE_BIN=$(command -v node)
NODE_VERSION=$("$NODE_BIN" --version)
NODE_REF=tsmesh.local/node-base:$NODE_VERSION
r=$WORK/node-rootfs
mkdir -p "$r"
base_files "$r"
copy_with_libs "$r" "$NODE_BIN" /usr/bin/node
copy_with_libs "$r" "$(command -v dash)" /bin/sh
oci_archive "$r" "$NODE_REF" "$OUT/node-base.oci.tar" 'null' "$(json_array node)" '0:0'

# --- coredns -------------------------------------------------------------------------------------
COREDNS_REF=
if [[ -n $COREDNS_BIN ]]; then
  ver=$("$COREDNS_BIN" -version | sed -n 's/^CoreDNS-\([0-9.]*\).*/\1/p' | head -n1)
  [[ -n $ver ]] || { echo "build-cluster-images.sh: cannot read the version of $COREDNS_BIN" >&2; exit 1; }
  COREDNS_REF=tsmesh.local/coredns:v$ver
  r=$WORK/coredns-rootfs
  mkdir -p "$r"
  base_files "$r"
  install -D -m 0755 "$COREDNS_BIN" "$r/coredns"
  oci_archive "$r" "$COREDNS_REF" "$OUT/coredns.oci.tar" '["/coredns"]' "$(json_array -conf /etc/coredns/Corefile)" '0:0'
fi

{
  echo "PAUSE_IMAGE=$PAUSE_REF"
  echo "NODE_BASE_IMAGE=$NODE_REF"
  [[ -z $COREDNS_REF ]] || echo "COREDNS_IMAGE=$COREDNS_REF"
} >"$OUT/images.env.tmp"
mv -f "$OUT/images.env.tmp" "$OUT/images.env"
cat "$OUT/images.env"
