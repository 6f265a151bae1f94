#!/bin/sh
# As the official traefik image: flags, and Traefik subcommands (`version`, `healthcheck`), run
# through traefik; anything else runs as a command.
set -e
if [ "${1#-}" != "$1" ]; then
  set -- traefik "$@"
fi
if traefik "$1" --help >/dev/null 2>&1; then
  set -- traefik "$@"
else
  echo "= '$1' is not a Traefik command: assuming shell execution." 1>&2
fi
exec "$@"
