#!/usr/bin/env bash
# Builds tsmesh's own images as OCI archives without a container daemon, a registry or a download:
# the node-base layer (this machine's Node.js, its libraries, /bin/sh, /usr/bin/env, passwd) and a
# layer with the component packed by `pnpm deploy --prod` (build the packages first:
# pnpm exec nx run @tsmesh/<component>:build). Same layout as images/Dockerfile: the package in
# /opt/tsmesh/<component>, its binary linked into /usr/local/bin, run as 2102 (proxy) or 2103; the
# proxy image also has iptables-nft (with NET_ADMIN/NET_RAW file capabilities) for `tsmesh-proxy init`.
#
#   images/build-tsmesh-images.sh OUT_DIR TAG [COMPONENT...]
#
# COMPONENT: proxy identity destination policy injector cli (default: all), multicluster (the service
# mirror, tsmesh-service-mirror; on request only). Writes
# OUT_DIR/tsmesh-<component>.oci.tar named ghcr.io/tsmesh/<component>:TAG — the names `tsmesh install`
# renders (imageRegistry ghcr.io/tsmesh), so imported images are used without a pull — and
# OUT_DIR/tsmesh-images.env (COMPONENT=reference lines). The base layer is the same in every archive.
set -euo pipefail
OUT=${1:?usage: build-tsmesh-images.sh OUT_DIR TAG [COMPONENT...]}
TAG=${2:?usage: build-tsmesh-images.sh OUT_DIR TAG [COMPONENT...]}
shift 2
components=("$@")
[[ ${#components[@]} -gt 0 ]] || components=(proxy identity destination policy injector cli)
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
mkdir -p "$OUT"
log() { printf '[build-tsmesh-images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# shellcheck source-path=SCRIPTDIR source=lib/oci-archive.sh
source "$HERE/lib/oci-archive.sh"
scratch_dir "$ROOT" tsmesh-images

PNPM=${PNPM:-$(command -v pnpm || echo "$ROOT/.tsmesh-tmp/bin/pnpm")}
for c in "${components[@]}"; do
  case $c in proxy | identity | destination | policy | injector | cli | multicluster) ;; *)
    echo "build-tsmesh-images.sh: unknown component '$c' (proxy identity destination policy injector cli multicluster)" >&2
    exit 2
    ;;
  esac
  [[ -d $ROOT/packages/$c/dist ]] || {
    echo "build-tsmesh-images.sh: packages/$c is not built (pnpm exec nx run @tsmesh/$c:build)" >&2
    exit 1
  }
done

base=$WORK/base
node_base_rootfs "$base"
: >"$WORK/images.env"
for c in "${components[@]}"; do
  bin=tsmesh-$c user=2103:2103
  [[ $c == cli ]] && bin=tsmesh
  [[ $c == multicluster ]] && bin=tsmesh-service-mirror
  [[ $c == proxy ]] && user=2102:2102
  app=$WORK/app-$c
  mkdir -p "$app/opt/tsmesh" "$app/usr/local/bin"
  log "packing @tsmesh/$c (pnpm deploy --prod)"
  (cd "$ROOT" && COREPACK_INTEGRITY_KEYS=0 "$PNPM" --filter "@tsmesh/$c" deploy --legacy --prod --prefer-offline \
    "$app/opt/tsmesh/$c" >&2)
  [[ -f $app/opt/tsmesh/$c/bin/$bin.js ]] || { echo "build-tsmesh-images.sh: no bin/$bin.js in @tsmesh/$c" >&2; exit 1; }
  ln -s "/opt/tsmesh/$c/bin/$bin.js" "$app/usr/local/bin/$bin"
  if [[ $c == proxy ]]; then
    # `tsmesh-proxy init` (linkerd-init) runs iptables-nft as uid 65534 with NET_ADMIN and NET_RAW
    # (what tsmesh install renders, as Linkerd does): the binary carries those file capabilities,
    # which no_new_privs still honours because the init process holds them in its permitted set.
    copy_with_libs "$app" /usr/sbin/xtables-nft-multi /usr/sbin/xtables-nft-multi
    for l in iptables-nft iptables-nft-save iptables-nft-restore ip6tables-nft ip6tables-nft-save ip6tables-nft-restore; do
      ln -s xtables-nft-multi "$app/usr/sbin/$l"
    done
    mkdir -p "$app/usr/lib/x86_64-linux-gnu"
    cp -a /usr/lib/x86_64-linux-gnu/xtables "$app/usr/lib/x86_64-linux-gnu/"
    setcap cap_net_admin,cap_net_raw+eip "$app/usr/sbin/xtables-nft-multi"
  fi
  layer_base=$base
  if [[ $c == proxy ]]; then
    # A non-root container's entry process loses every capability at runc's execve (no ambient
    # capabilities from the CRI), and under no_new_privs a child can never gain more than its
    # parent holds. So `node` itself (and env) carries NET_ADMIN/NET_RAW as file capabilities in this image;
    # the container's bounding set still limits them (the proxy container drops ALL).
    layer_base=$WORK/base-proxy
    [[ -d $layer_base ]] || cp -a "$base" "$layer_base"
    # The launcher's `#!/usr/bin/env` shebang runs env first, so env carries them too. Permitted
    # only (+ip, no effective bit): where the bounding set lacks them (the proxy container drops ALL)
    # the kernel then starts the program without them instead of refusing the exec (EPERM).
    setcap cap_net_admin,cap_net_raw+ip "$layer_base/usr/bin/node"
    setcap cap_net_admin,cap_net_raw+ip "$layer_base/usr/bin/env"
  fi
  ref=ghcr.io/tsmesh/$c:$TAG
  oci_archive "$ref" "$OUT/tsmesh-$c.oci.tar" 'null' "$(json_array "$bin")" "$user" "$layer_base" "$app"
  echo "$c=$ref" >>"$WORK/images.env"
  rm -rf "$app"
done
mv -f "$WORK/images.env" "$OUT/tsmesh-images.env"
cat "$OUT/tsmesh-images.env"
