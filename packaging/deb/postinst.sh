#!/bin/sh
# The headless package's postinst (follows maintainer-common.sh).
case "$1" in
  configure) fieldgate_configure "$2" ;;
esac
exit 0
