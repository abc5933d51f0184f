#!/bin/sh
# The headless package's prerm (follows maintainer-common.sh). An upgrade does not stop the
# gateway: postinst restarts it if it was running.
case "$1" in
  remove|deconfigure) fieldgate_stop_and_disable ;;
esac
exit 0
