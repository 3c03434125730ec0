#!/usr/bin/env bash
# Installs what the build needs from Debian on a fresh machine: the HDF5 C library and headers
# (hdf5-metno links the system library) and pkg-config. Idempotent: does nothing when they are
# already there.
set -euo pipefail
if pkg-config --exists hdf5 2>/dev/null; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing libhdf5-dev and pkg-config (Debian packages)..." >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libhdf5-dev pkg-config >/dev/null
pkg-config --exists hdf5
