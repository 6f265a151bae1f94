#!/bin/sh
# As the official node image: `node ARGS` when the first argument is a flag, names no command, or
# is a file that is not executable; the command itself otherwise.
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
