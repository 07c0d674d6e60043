#!/usr/bin/env bash
# Installs what papr-server needs from Debian's packages, only what is missing.
# Idempotent and quiet when everything is there. Needs root (or sudo) for apt-get.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  librocksdb-dev libboost-dev libboost-system-dev libyaml-cpp-dev libsimdjson-dev
  libssl-dev libgtest-dev libgmock-dev libbenchmark-dev curl ca-certificates
  postgresql-15 libpq-dev libpoppler-cpp-dev
)
# More packages for this caller (tools/test.sh: test-only tools), space-separated.
read -r -a extra <<< "${PAPR_EXTRA_PACKAGES:-}"
PACKAGES+=("${extra[@]}")

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "bootstrap: installing ${missing[*]}" >&2
$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
