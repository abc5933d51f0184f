#!/bin/sh
# The Electron package's postinst (electron-builder deb.afterInstall; follows maintainer-common.sh).
# electron-builder installs the app to /opt/fieldgate; the system files come from its resources.
FIELDGATE_APP=/opt/fieldgate
FIELDGATE_CONFIG_FILES=$FIELDGATE_APP/resources/native-config
install -D -m 0644 "$FIELDGATE_CONFIG_FILES/fieldgate.service" /usr/lib/systemd/system/fieldgate.service
install -D -m 0644 "$FIELDGATE_CONFIG_FILES/99-fieldgate-serial.rules" /usr/lib/udev/rules.d/99-fieldgate-serial.rules
install -D -m 0644 "$FIELDGATE_CONFIG_FILES/fieldgate.tmpfiles.conf" /usr/lib/tmpfiles.d/fieldgate.conf
install -D -m 0644 "$FIELDGATE_CONFIG_FILES/fieldgate-bluez.conf" /usr/share/dbus-1/system.d/fieldgate-bluez.conf
install -D -m 0644 "$FIELDGATE_CONFIG_FILES/fieldgate.starter.yaml" /usr/share/fieldgate/fieldgate.yaml
# One runtime: `fieldgate` (and the unit) run the app's Electron binary as plain Node.
cat > /usr/bin/fieldgate <<'WRAPPER'
#!/bin/sh
ELECTRON_RUN_AS_NODE=1 exec /opt/fieldgate/fieldgate /opt/fieldgate/resources/app.asar/dist/main/cli.js "$@"
WRAPPER
chmod 0755 /usr/bin/fieldgate
# Chromium's sandbox helper needs setuid only where unprivileged user namespaces are unavailable.
if [ -L /proc/self/ns/user ] && unshare --user true 2>/dev/null; then
  chmod 0755 "$FIELDGATE_APP/chrome-sandbox" || true
else
  chmod 4755 "$FIELDGATE_APP/chrome-sandbox" || true
fi
if command -v update-desktop-database >/dev/null; then update-desktop-database /usr/share/applications || true; fi
case "$1" in
  configure) fieldgate_configure "$2" ;;
esac
exit 0
