#!/bin/sh
# The Electron package's postrm (electron-builder deb.afterRemove; follows maintainer-common.sh).
# electron-builder has no prerm hook: the gateway stops here, after dpkg removed the app's files.
fieldgate_remove_system_files() {
  rm -f /usr/bin/fieldgate /usr/lib/systemd/system/fieldgate.service /usr/lib/udev/rules.d/99-fieldgate-serial.rules \
    /usr/lib/tmpfiles.d/fieldgate.conf /usr/share/dbus-1/system.d/fieldgate-bluez.conf /usr/share/fieldgate/fieldgate.yaml
  rmdir /usr/share/fieldgate 2>/dev/null || true
}
case "$1" in
  remove)
    fieldgate_stop_and_disable
    fieldgate_remove_system_files
    fieldgate_reload_system
    ;;
  purge)
    fieldgate_remove_system_files
    fieldgate_purge_state
    ;;
esac
exit 0
