#!/usr/bin/env bash
# Installs the Debian dependencies (scripts/debian-packages.txt) when any is missing.
set -euo pipefail
here=$(dirname "$0")
for p in $(grep -v '^#' "$here/debian-packages.txt"); do
  if ! dpkg -s "$p" >/dev/null 2>&1; then
    exec bash "$here/install-deps.sh"
  fi
done
