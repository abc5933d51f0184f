#!/bin/sh
# The headless package's postrm (follows maintainer-common.sh).
case "$1" in
  remove) fieldgate_reload_system ;;
  purge) fieldgate_purge_state ;;
esac
exit 0
