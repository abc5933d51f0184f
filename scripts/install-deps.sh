#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real (broker, pty pairs, D-Bus + BlueZ
# mock, browser, systemd-notify, SoftHSM2 with the PKCS#11 engine, pymodbus, Debian packaging
# tools), only those missing. Uses sudo when not root. Safe to run repeatedly.
set -euo pipefail

declare -A needed=(
  [mosquitto]=/usr/sbin/mosquitto
  [socat]=/usr/bin/socat
  [dbus]=/usr/bin/dbus-daemon
  [python3-dbusmock]=/usr/lib/python3/dist-packages/dbusmock
  [chromium]=/usr/bin/chromium
  [openssl]=/usr/bin/openssl
  [systemd]=/usr/bin/systemd-notify
  [softhsm2]=/usr/lib/softhsm/libsofthsm2.so
  [opensc]=/usr/bin/pkcs11-tool
  [libengine-pkcs11-openssl]=/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so
  [python3-pymodbus]=/usr/lib/python3/dist-packages/pymodbus
  [mmdebstrap]=/usr/bin/mmdebstrap
  [lintian]=/usr/bin/lintian
  [dpkg-dev]=/usr/bin/dpkg-architecture
  [fakeroot]=/usr/bin/fakeroot
)
missing=()
for package in "${!needed[@]}"; do
  [ -e "${needed[$package]}" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

run_as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
run_as_root apt-get update -qq
run_as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian package enables a system-wide broker; the tests start their own on free ports.
if [[ " ${missing[*]} " == *" mosquitto "* ]] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  run_as_root systemctl disable --now mosquitto >/dev/null 2>&1 || true
fi
