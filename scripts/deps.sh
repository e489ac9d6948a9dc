#!/usr/bin/env bash
# Installs the Debian packages Dunlin needs, only those missing.
set -euo pipefail
pkgs=(build-essential cmake pkg-config flex bison libsqlite3-dev sqlite3 libffi-dev
      libcmocka-dev libjansson-dev libcsv-dev libmicrohttpd-dev tzdata
      chromium python3   # tests/report (screenshots of the HTML reports)
      jq curl git patch)  # tests: JSON checks, serve over HTTP, the CI example's repository, fmt --diff
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
