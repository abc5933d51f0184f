# fieldgate maintainer functions, shared by the headless .deb (packaging/deb/*.sh) and the Electron
# .deb (packaging/electron/*.sh); scripts/package-deb.mjs puts this file in front of each entry.
# POSIX sh. No brace-style variable expansions: electron-builder treats those as its own macros.
set -e

FIELDGATE_STATE=/var/lib/fieldgate
FIELDGATE_CONFIG=/var/lib/fieldgate/config/fieldgate.yaml
FIELDGATE_UNIT=fieldgate.service

systemd_running() {
  [ -d /run/systemd/system ]
}

fieldgate_create_user() {
  if ! getent passwd fieldgate >/dev/null; then
    adduser --quiet --system --group --home "$FIELDGATE_STATE" --no-create-home fieldgate
  fi
  # Serial adapters belong to dialout (the udev rule keeps it so).
  adduser --quiet fieldgate dialout
}

fieldgate_create_state_dirs() {
  if command -v systemd-tmpfiles >/dev/null; then
    systemd-tmpfiles --create fieldgate.conf
  else
    install -d -o fieldgate -g fieldgate -m 0700 "$FIELDGATE_STATE" "$FIELDGATE_STATE/config" "$FIELDGATE_STATE/identity"
  fi
}

fieldgate_reload_system() {
  if systemd_running; then
    systemctl daemon-reload
    systemctl reload dbus.service 2>/dev/null || true
  fi
  if command -v udevadm >/dev/null && [ -d /run/udev ]; then
    udevadm control --reload-rules || true
    udevadm trigger --subsystem-match=tty --action=change || true
  fi
}

fieldgate_config_valid() {
  [ -f "$FIELDGATE_CONFIG" ] && fieldgate config check "$FIELDGATE_CONFIG" >/dev/null 2>&1
}

fieldgate_print_next_step() {
  cat <<NEXT

fieldgate is installed and enabled, but not started: it needs a valid config at
$FIELDGATE_CONFIG. Next step:

  sudo install -o fieldgate -g fieldgate -m 0600 /usr/share/fieldgate/fieldgate.yaml $FIELDGATE_CONFIG
  sudo systemctl start fieldgate
  sudo fieldgate status        # shows the one-time setup code

Then open the setup UI (http://127.0.0.1:8080 on the box, or through ssh -L 8080:127.0.0.1:8080)
and enter the setup code; the UI sets up the cloud, the certificate and the sensors.
NEXT
}

# postinst configure; $1 is the version being upgraded from, empty on a first install.
fieldgate_configure() {
  previous="$1"
  fieldgate_create_user
  fieldgate_create_state_dirs
  fieldgate_reload_system
  # Enabled either way: at boot the unit's ConditionPathExists skips it until the config exists.
  if command -v systemctl >/dev/null; then systemctl enable --quiet "$FIELDGATE_UNIT" || true; fi
  if ! fieldgate_config_valid; then
    if [ -n "$previous" ] && [ -f "$FIELDGATE_CONFIG" ]; then
      echo "fieldgate: $FIELDGATE_CONFIG does not pass 'fieldgate config check' with this version; not restarted." >&2
      fieldgate config check "$FIELDGATE_CONFIG" >&2 || true
    else
      fieldgate_print_next_step
    fi
    return 0
  fi
  if ! systemd_running; then return 0; fi
  if [ -n "$previous" ]; then
    # An upgrade restarts the gateway only if it was running.
    systemctl try-restart "$FIELDGATE_UNIT"
  else
    systemctl start "$FIELDGATE_UNIT"
  fi
}

# Removal: stop the gateway and drop the boot link (the unit file itself may already be gone).
fieldgate_stop_and_disable() {
  if systemd_running; then systemctl stop "$FIELDGATE_UNIT" || true; fi
  rm -f "/etc/systemd/system/multi-user.target.wants/$FIELDGATE_UNIT"
}

fieldgate_purge_state() {
  if [ -d "$FIELDGATE_STATE" ]; then
    echo "fieldgate: purge deletes $FIELDGATE_STATE: the config, the buffer with any readings not yet delivered, the device identity (private key and certificate) and the UI accounts."
    rm -rf "$FIELDGATE_STATE"
  fi
  if [ -d /etc/fieldgate ]; then
    echo "fieldgate: /etc/fieldgate is left in place (files you put there, such as the broker CA)."
  fi
  echo "fieldgate: the system user 'fieldgate' is kept, so files it still owns elsewhere keep a known owner."
}
