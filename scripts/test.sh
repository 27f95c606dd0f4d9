#!/usr/bin/env bash
# The whole test suite, from a fresh machine: set-up, then pytest (slow tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
# setpriv (util-linux) lets the unreadable-path cases drop root's permission override.
if ! command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends util-linux
fi
# Debian's nginx for the remote task cache tests (a WebDAV server speaking Bazel's protocol).
scripts/cache-setup.sh
if [ -x scripts/container-setup.sh ]; then
    # Podman, runc and the stand-in base image for the container tests (needs root).
    scripts/container-setup.sh
fi
exec .venv/bin/python -m pytest "$@"
