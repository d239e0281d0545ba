#!/usr/bin/env bash
# Builds the images a `testenv up --cluster` node needs, as OCI image archives, without a container
# daemon, a registry or any download: every file comes from this machine.
#
#   images/build-cluster-images.sh OUT_DIR [COREDNS_BINARY]
#
# Writes to OUT_DIR (created; existing archives are replaced):
#   pause.oci.tar      tsmesh.local/pause:3.10        the pod sandbox: images/pause/pause.c, static
#   node-base.oci.tar  tsmesh.local/node-base:<node>  the machine's Node.js binary and the shared
#                                                     libraries it links (ldd), /bin/sh (dash),
#                                                     /usr/bin/env, a passwd/group with root, nobody and
#                                                     the mesh users (2102 proxy, 2103 controllers), /tmp
#   coredns.oci.tar    tsmesh.local/coredns:<version> the static CoreDNS binary given (only when given)
#   images.env         NAME=reference lines for the above
#
# Each archive is an OCI image layout with one uncompressed layer (images/lib/oci-archive.sh).
# Needs: gcc with a static libc (libc6-dev), tar, sha256sum, ldd.
set -euo pipefail
OUT=${1:?usage: build-cluster-images.sh OUT_DIR [COREDNS_BINARY]}
COREDNS_BIN=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
log() { printf '[build-cluster-images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# shellcheck source-path=SCRIPTDIR source=lib/oci-archive.sh
source "$HERE/lib/oci-archive.sh"
scratch_dir "$(cd "$HERE/.." && pwd)" tsmesh-cluster-images

# --- pause ---------------------------------------------------------------------------------------
PAUSE_REF=tsmesh.local/pause:3.10
r=$WORK/pause-rootfs
mkdir -p "$r"
gcc -Os -static -o "$r/pause" "$HERE/pause/pause.c"
strip "$r/pause" 2>/dev/null || true
oci_archive "$PAUSE_REF" "$OUT/pause.oci.tar" '["/pause"]' 'null' '65535:65535' "$r"

# --- node-base -----------------------------------------------------------------------------------
NODE_BIN=$(command -v node)
NODE_VERSION=$("$NODE_BIN" --version)
NODE_REF=tsmesh.local/node-base:$NODE_VERSION
r=$WORK/node-rootfs
node_base_rootfs "$r"
oci_archive "$NODE_REF" "$OUT/node-base.oci.tar" 'null' "$(json_array node)" '0:0' "$r"

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
  oci_archive "$COREDNS_REF" "$OUT/coredns.oci.tar" '["/coredns"]' "$(json_array -conf /etc/coredns/Corefile)" '0:0' "$r"
fi

{
  echo "PAUSE_IMAGE=$PAUSE_REF"
  echo "NODE_BASE_IMAGE=$NODE_REF"
  [[ -z $COREDNS_REF ]] || echo "COREDNS_IMAGE=$COREDNS_REF"
} >"$OUT/images.env.tmp"
mv -f "$OUT/images.env.tmp" "$OUT/images.env"
cat "$OUT/images.env"
