#!/bin/sh
# As the official redis image: flags or a *.conf first mean redis-server; started as root,
# redis-server gets /data chowned and runs as redis; umask 0077 unless one was set.
# Protected mode is compiled off in the official image; Debian's build has it on, so it is turned
# off here before the caller's own flags (a config file's `protected-mode yes` does not win).
set -e
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec /usr/bin/setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
um=$(umask)
if [ "$um" = 0022 ] || [ "$um" = 022 ]; then
  umask 0077
fi
if [ "$1" = redis-server ]; then
  shift
  case ${1:-} in
    -v | --version | -h | --help | --test-memory | --check-system) set -- redis-server "$@" ;;
    - | [!-]*)
      conf=$1
      shift
      set -- redis-server "$conf" --protected-mode no "$@"
      ;;
    *) set -- redis-server --protected-mode no "$@" ;;
  esac
fi
exec "$@"
