#!/usr/bin/env bash
# Install the Debian packages Offload needs, only those missing: QGIS 3.22 (and its desktop,
# for the real-QGIS test), GDAL, numpy, requests, Xvfb, Qt's lrelease (make translations).
# Runs as root (as on CI) or through sudo. A second run installs nothing.
set -euo pipefail

packages=(python3-qgis qgis-providers qgis libsqlite3-mod-spatialite python3-gdal gdal-bin python3-numpy python3-requests python3-venv xvfb xauth qttools5-dev-tools "$@")
missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null; then
  as_root=(sudo)
else
  echo "offload: these Debian packages are missing and I am not root: ${missing[*]}" >&2
  echo "offload: run: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "offload: installing Debian packages: ${missing[*]}" >&2
"${as_root[@]}" apt-get update -q
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q "${missing[@]}"
