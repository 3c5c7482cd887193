#!/usr/bin/env bash
# Installs libfastflow's build and test dependencies from Debian's packages.
# Needs root (or sudo). Usage: scripts/install-deps.sh
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
  build-essential g++ meson ninja-build pkg-config \
  libdnnl-dev libpng-dev libjpeg-dev \
  python3 python3-numpy python3-pycparser python3-venv python3-setuptools python3-wheel python3-pip \
  valgrind
