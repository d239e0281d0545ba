# shellcheck shell=bash
# Shell functions for making OCI image archives without a container daemon, a registry or any
# download (sourced by images/build-cluster-images.sh and images/build-tsmesh-images.sh;
# build-proxy-image.sh uses scratch_dir and copy_with_libs). Callers set WORK (scratch_dir) and
# `log`. Needs tar, sha256sum, ldd.

# scratch_dir ROOT NAME: sets WORK to a new scratch directory outside the repository at ROOT (a
# relative TMPDIR, or one inside ROOT, would put it among the workspace's packages, where other tests
# list them), removed on any exit (scratch_cleanup), also when the caller is killed (TERM, INT).
# A caller with more to undo on exit sets its own EXIT trap and ends it with scratch_cleanup.
scratch_dir() {
  local tmp=${TMPDIR:-/tmp}
  _scratch_root=$1
  [[ $tmp == /* && $tmp != "$_scratch_root"* ]] || tmp=/tmp
  WORK=$(mktemp -d "$tmp/$2.XXXXXX")
  trap scratch_cleanup EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
}

# Removes WORK and, when `pnpm deploy` ran into it, the node_modules/.bin shims pnpm also writes
# inside the workspace at the deploy folder's absolute path taken as relative to it (ROOT/WORK/...),
# with the folders above them that this leaves empty.
scratch_cleanup() {
  rm -rf "$WORK"
  if [[ -e $_scratch_root$WORK ]]; then
    rm -rf "${_scratch_root:?}$WORK"
    rmdir -p --ignore-fail-on-non-empty "$(dirname "$_scratch_root$WORK")" 2>/dev/null || true
  fi
}

_oci_sha() { sha256sum "$1" | cut -d' ' -f1; }
_oci_size() { stat -c %s "$1"; }

# _oci_put_blob LAYOUT FILE -> prints the digest hex; moves FILE into LAYOUT/blobs/sha256/.
_oci_put_blob() {
  local layout=$1 file=$2 hex
  hex=$(_oci_sha "$file")
  mv "$file" "$layout/blobs/sha256/$hex"
  printf '%s' "$hex"
}

# json_array A B C -> ["A","B","C"] (values must not contain quotes or backslashes)
json_array() {
  local out='' v
  for v in "$@"; do
    # shellcheck disable=SC1003 # a backslash, not an escaped quote
    case $v in *'"'* | *'\'*) echo "oci-archive.sh: unsupported character in $v" >&2; exit 1 ;; esac
    out+="${out:+,}\"$v\""
  done
  printf '[%s]' "$out"
}

# oci_archive REFERENCE OUT_TAR ENTRYPOINT_JSON CMD_JSON USER ROOTFS_DIR...
# One uncompressed layer per ROOTFS_DIR (bottom first), made with a fixed mtime, owner and file
# order, so the same inputs give the same digests (and a shared base layer is stored once by
# containerd). Named by the index annotations io.containerd.image.name (the full reference, what
# `ctr images import` uses) and org.opencontainers.image.ref.name.
oci_archive() {
  local ref=$1 out=$2 entrypoint=$3 cmd=$4 user=$5
  shift 5
  local layout
  layout=$WORK/layout-$(basename "$out" .tar)
  rm -rf "$layout"
  mkdir -p "$layout/blobs/sha256"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"

  local rootfs layers='' diff_ids='' hex size
  for rootfs in "$@"; do
    # --xattrs keeps file capabilities (security.capability, e.g. the proxy image's iptables).
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
      --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
      --xattrs --xattrs-include=security.capability \
      -C "$rootfs" -cf "$WORK/layer.tar" .
    size=$(_oci_size "$WORK/layer.tar")
    hex=$(_oci_put_blob "$layout" "$WORK/layer.tar")
    # Uncompressed layers: the digest is also the diff ID.
    layers+="${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$hex\",\"size\":$size}"
    diff_ids+="${diff_ids:+,}\"sha256:$hex\""
  done

  printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":{"User":"%s","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Entrypoint":%s,"Cmd":%s,"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":[%s]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"images/lib/oci-archive.sh"}]}' \
    "$user" "$entrypoint" "$cmd" "$diff_ids" >"$WORK/config.json"
  local config_size config_hex
  config_size=$(_oci_size "$WORK/config.json")
  config_hex=$(_oci_put_blob "$layout" "$WORK/config.json")

  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
    "$config_hex" "$config_size" "$layers" >"$WORK/manifest.json"
  local manifest_size manifest_hex
  manifest_size=$(_oci_size "$WORK/manifest.json")
  manifest_hex=$(_oci_put_blob "$layout" "$WORK/manifest.json")

  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest_hex" "$manifest_size" "$ref" "${ref##*:}" >"$layout/index.json"

  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$layout" -cf "$out.tmp" .
  mv -f "$out.tmp" "$out"
  rm -rf "$layout"
  log "$ref -> $out ($(du -h "$out" | cut -f1))"
}

# copy_with_libs ROOTFS BINARY DEST: the binary at DEST and every shared library it loads (same paths).
copy_with_libs() {
  local rootfs=$1 bin=$2 dest=$3 lib
  install -D -m 0755 "$(readlink -f "$bin")" "$rootfs$dest"
  for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
    [[ -e $rootfs$lib ]] || install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$lib"
  done
}

# base_files ROOTFS: /etc/passwd and /etc/group with root, the mesh users (2102 proxy, 2103
# controllers) and nobody, /tmp, mount points; the kubelet bind-mounts /etc/hosts and resolv.conf.
base_files() {
  local rootfs=$1
  mkdir -p "$rootfs"/{etc,tmp,proc,sys,dev,run,var/run}
  chmod 1777 "$rootfs/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nproxy:x:2102:2102:tsmesh proxy:/tmp:/sbin/nologin\ncontroller:x:2103:2103:tsmesh controller:/tmp:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nproxy:x:2102:\ncontroller:x:2103:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
  : >"$rootfs/etc/hosts"
  : >"$rootfs/etc/resolv.conf"
}

# node_base_rootfs ROOTFS: base_files, this machine's Node.js as /usr/bin/node, dash as /bin/sh and
# /usr/bin/env (launchers' `#!/usr/bin/env` shebangs), each with its libraries.
node_base_rootfs() {
  local rootfs=$1
  mkdir -p "$rootfs"
  base_files "$rootfs"
  copy_with_libs "$rootfs" "$(command -v node)" /usr/bin/node
  copy_with_libs "$rootfs" "$(command -v dash)" /bin/sh
  copy_with_libs "$rootfs" /usr/bin/env /usr/bin/env
}
