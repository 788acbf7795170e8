#!/usr/bin/env bash
# Installs everything vmt-gst needs on a Debian 12 machine, idempotently:
#   1. Debian packages (GStreamer 1.22 and its plugins, gst-rtsp-server, OpenCV, Pango/Cairo,
#      the DejaVu fonts, GoogleTest, ...),
#   2. a project-local virtual environment .venv/ (meson, ninja, PyTorch = LibTorch, reference tools).
# A second run checks what is there and downloads nothing.
#
# Usage: tools/setup.sh            (called by tools/dev; safe to call by hand)
# Environment: VMT_SKIP_APT=1 skips step 1 (machines without package access).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo_root/.venv"
requirements="$repo_root/tools/requirements.txt"

debian_packages=(
  build-essential pkg-config ninja-build git
  libglib2.0-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-base-apps gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  libgstrtspserver-1.0-dev gir1.2-gst-rtsp-server-1.0
  gobject-introspection libgirepository1.0-dev gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0
  python3-venv python3-gi
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  libpango1.0-dev libcairo2-dev fonts-dejavu-core
  libgtest-dev libgmock-dev
  nlohmann-json3-dev
)

log() { printf '[setup] %s\n' "$*"; }

install_debian_packages() {
  if [[ "${VMT_SKIP_APT:-0}" == 1 ]]; then
    log "VMT_SKIP_APT=1: not touching Debian packages"
    return
  fi
  local missing=()
  for pkg in "${debian_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    log "Debian packages: all ${#debian_packages[@]} present"
    return
  fi
  log "Debian packages: installing ${missing[*]}"
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

install_python_environment() {
  # The stamp holds the hash of requirements.txt: an unchanged file means nothing to do.
  local stamp="$venv/.requirements.sha256"
  local wanted
  wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" && -x "$venv/bin/meson" ]]; then
    log "Python environment: up to date ($venv)"
    return
  fi
  if [[ ! -x "$venv/bin/python" ]]; then
    log "Python environment: creating $venv"
    # Debian's interpreter, with its site packages visible, so PyGObject (python3-gi) is usable.
    /usr/bin/python3 -m venv --system-site-packages "$venv"
  fi
  log "Python environment: installing pinned requirements (PyTorch is a large download, once)"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -r "$requirements"
  echo "$wanted" >"$stamp"
}

install_debian_packages
install_python_environment
log "done"
