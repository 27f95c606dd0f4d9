#!/usr/bin/env bash
# Prepare this machine for the remote task cache tests: Debian's nginx, which serves Bazel's
# HTTP cache protocol with WebDAV PUT. The tests start their own nginx on 127.0.0.1 with
# their own configuration; the Debian service is never started (it would take port 80).
# Idempotent: nothing happens when nginx is already installed. Needs root; without it, says
# so loudly and exits 0 (the cache tests then fail unless nginx is on PATH).
set -euo pipefail

say() { printf 'cache-setup: %s\n' "$*" >&2; }

if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    say "WARNING: not root; nginx was NOT installed and the remote cache tests will fail."
    exit 0
fi
say "installing nginx (its service is not started)"
# policy-rc.d answering 101 tells the package's maintainer scripts not to start services.
policy=/usr/sbin/policy-rc.d
if [ -e "$policy" ]; then
    cp -p "$policy" "$policy.poetflow-saved"
fi
printf '#!/bin/sh\nexit 101\n' > "$policy"
chmod 755 "$policy"
restore() {
    if [ -e "$policy.poetflow-saved" ]; then
        mv "$policy.poetflow-saved" "$policy"
    else
        rm -f "$policy"
    fi
}
trap restore EXIT
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null
