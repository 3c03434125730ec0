#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian machine, idempotently (each part
# does nothing when it is already there):
# - the HDF5 C library and headers (hdf5-metno links the system library) and pkg-config;
# - a Python virtual environment in .venv with h5py, numpy, xarray and h5netcdf (xarray's engine
#   on top of h5py), in which the tests check that Python reads the result files
#   (tests/io_h5py.rs). MFG_PYTHON overrides its interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! pkg-config --exists hdf5 2>/dev/null; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "installing libhdf5-dev and pkg-config (Debian packages)..." >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libhdf5-dev pkg-config >/dev/null
  pkg-config --exists hdf5
fi
if ! .venv/bin/python -c 'import h5py, numpy, xarray, h5netcdf' 2>/dev/null; then
  echo "creating .venv with h5py, numpy, xarray and h5netcdf (PyPI)..." >&2
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check \
    'h5py>=3.10' 'numpy>=1.26' 'xarray>=2024.1' 'h5netcdf>=1.3'
  .venv/bin/python -c 'import h5py, numpy, xarray, h5netcdf'
fi
