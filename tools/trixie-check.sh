#!/usr/bin/env bash
# Builds vmt-gst against GStreamer 1.26 in a Debian 13 (trixie) root and runs the element tests
# plus the GstAnalytics interop test (tests/interop/). Debian 12 ships GStreamer 1.22, which has no
# GstAnalytics API: this is where the analytics metadata (gst/meta/vmtmeta-analytics.c) is tested.
#
#   tools/trixie-check.sh          make or update the root, build, test
#   tools/trixie-check.sh check ARGS   the same, with ARGS for `meson test` instead of the suites
#                                      (e.g. `check analytics-python`)
#   tools/trixie-check.sh prepare  only make or update the root
#   tools/trixie-check.sh shell    a shell in the root with the tree mounted (debugging)
#
# The root is made once with debootstrap and cached outside the clone (VMT_TRIXIE_CACHE, default
# ~/.cache/vmt-gst/trixie); the build folder lives in the root too, so a second run only rebuilds
# what changed. LibTorch is the project .venv's PyTorch wheel (its site-packages, mounted read-only:
# the wheel's libraries run on both distributions); CUDA is off. Needs root (debootstrap, chroot,
# mount) and the Debian mirror (VMT_DEBIAN_MIRROR, default: the one this machine's apt uses).
# Environment: VMT_TRIXIE_JOBS (ninja -j, default 2).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${VMT_TRIXIE_CACHE:-$HOME/.cache/vmt-gst/trixie}"
root="$cache/root"
jobs="${VMT_TRIXIE_JOBS:-2}"
command="${1:-check}"
shift || true

# Inside the root: the source tree, the wheel's site-packages, the build folder.
src_in_root=/vmt/src
torch_site_in_root=/vmt/site-packages
build_in_root=/vmt/build

packages=(
  build-essential pkg-config ninja-build meson ccache git
  libglib2.0-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gobject-introspection libgirepository1.0-dev
  gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-plugins-bad-1.0
  python3 python3-gi python3-numpy
  libgtest-dev libgmock-dev nlohmann-json3-dev
)

log() { printf '[trixie-check] %s\n' "$*"; }
die() { printf '[trixie-check] error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap, chroot and bind mounts)"

# The mirror this machine's apt uses (deb822 or one-line sources), else Debian's CDN.
host_mirror() {
  local uri
  uri="$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' |
         grep -E '/debian/?$' | head -n1 || true)"
  [[ -n "$uri" ]] || uri="$(grep -hsE '^deb ' /etc/apt/sources.list | awk '{print $2}' |
                            grep -E '/debian/?$' | head -n1 || true)"
  echo "${uri:-http://deb.debian.org/debian}"
}
mirror="${VMT_DEBIAN_MIRROR:-$(host_mirror)}"

torch_site() {
  local python="$repo_root/.venv/bin/python"
  [[ -x "$python" ]] || die "no project .venv: run tools/setup.sh first"
  local torch_dir
  torch_dir="$("$python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')" ||
    die "the project .venv has no torch package"
  dirname "$torch_dir"
}

# Mounts left under the root by a run that was killed: unmount them before anything else.
unmount_stale() {
  local target
  while read -r target; do
    umount "$target" 2>/dev/null || umount -l "$target"
  done < <(awk -v r="$root/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r)
}

make_root() {
  if [[ -f "$root/.vmt-debootstrap-done" ]]; then
    log "Debian 13 root: cached at $root"
    return
  fi
  command -v debootstrap >/dev/null || {
    log "installing debootstrap"
    apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null
  }
  log "Debian 13 root: debootstrap trixie from $mirror into $root (once)"
  rm -rf --one-file-system "$root"
  mkdir -p "$root"
  debootstrap --variant=minbase trixie "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    die "debootstrap failed, see $cache/debootstrap.log"
  printf 'deb %s trixie main\ndeb %s trixie-updates main\n' "$mirror" "$mirror" \
    >"$root/etc/apt/sources.list"
  # No recommends: only what the build and the tests name.
  printf 'APT::Install-Recommends "false";\n' >"$root/etc/apt/apt.conf.d/90vmt-no-recommends"
  touch "$root/.vmt-debootstrap-done"
}

mounted=()
mount_bind() {  # source target [ro]
  mkdir -p "$2"
  mount --bind "$1" "$2"
  mounted+=("$2")
  if [[ "${3:-}" == ro ]]; then mount -o remount,bind,ro "$2"; fi
}
unmount_all() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" || umount -l "${mounted[i]}"; done
  mounted=()
}
trap unmount_all EXIT

mount_root() {
  mkdir -p "$root/proc" "$root/dev"
  mount -t proc proc "$root/proc"
  mounted+=("$root/proc")
  mount_bind /dev "$root/dev"
  mount_bind "$repo_root" "$root$src_in_root"
  mount_bind "$(torch_site)" "$root$torch_site_in_root" ro
  cp /etc/resolv.conf "$root/etc/resolv.conf"
}

in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
                   LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@"; }

install_packages() {
  local wanted stamp="$root/.vmt-packages"
  wanted="$(printf '%s\n' "${packages[@]}" | sha256sum | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    log "packages: up to date"
    return
  fi
  log "packages: installing GStreamer 1.26 and the build tools"
  in_root apt-get update -qq
  in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" \
    >"$cache/apt.log" 2>&1 || die "apt-get install failed, see $cache/apt.log"
  in_root apt-get clean
  echo "$wanted" >"$stamp"
}

# Only what the element and interop tests need: the plugin, the metadata library with its
# typelib, the test model and the element test programs.
build_targets=(
  gst/libgstvmt.so gst/meta/GstVmt-1.0.typelib tests/test-model.safetensors
  tests/elements/element-tests tests/elements/vmtmeta-tests tests/elements/vmtoverlay-tests
  tests/elements/vmtexport-tests tests/interop/analytics-tests
)

build_and_test() {
  in_root gst-inspect-1.0 --version | sed -n 2p | sed 's/^/[trixie-check] /'
  if [[ ! -f "$root$build_in_root/build.ninja" ]]; then
    in_root meson setup "$build_in_root" "$src_in_root" -Dcuda=disabled -Dbenchmarks=false \
      -Dlibtorch_dir="$torch_site_in_root/torch"
  fi
  in_root env CCACHE_DIR=/vmt/ccache ninja -C "$build_in_root" -j"$jobs" "${build_targets[@]}"
  local selection=("$@")
  ((${#selection[@]} > 0)) || selection=(--suite elements --suite interop)
  in_root meson test -C "$build_in_root" --no-rebuild --print-errorlogs --num-processes 1 \
    "${selection[@]}"
}

unmount_stale
make_root
mount_root
install_packages
case "$command" in
  check) build_and_test "$@" ;;
  prepare) ;;
  shell) in_root bash -c "cd $src_in_root && exec bash" ;;
  *) die "usage: tools/trixie-check.sh [check|prepare|shell]" ;;
esac
