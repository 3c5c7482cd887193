#!/usr/bin/env bash
# Installs libfastflow's build and test dependencies (scripts/debian-packages.txt)
# from Debian's packages. Needs root (or sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# shellcheck disable=SC2046
$SUDO apt-get install -y --no-install-recommends $(grep -v '^#' "$(dirname "$0")/debian-packages.txt")
