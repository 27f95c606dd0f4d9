#!/usr/bin/env bash
# Prepare this machine for the container and CI runner tests: podman + runc, their runtime
# settings, a stand-in for the Dockerfile's base image (no registry is reachable here), and the
# Debian packages the CI runners need.
# Idempotent: each step is skipped when already done. Needs root; without it, says so loudly
# and exits 0 (the container tests then fail unless POETFLOW_SKIP_CONTAINER_TESTS=1).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'container-setup: %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
    say "WARNING: not root; podman, runc and the base image were NOT set up."
    say "WARNING: the container tests will fail; run this script as root, or set"
    say "WARNING: POETFLOW_SKIP_CONTAINER_TESTS=1 to skip them on purpose."
    exit 0
fi

# 1. Packages: podman, runc and mmdebstrap for the image; for the CI runner tests
# (tests/ci_runner) rsync (gitlab-ci-local), Groovy 2.4 and a JRE (the Jenkinsfile), and npm
# to install Node 22, gitlab-ci-local and npm-groovy-lint (the tests do that, once).
missing=""
for pair in podman:podman runc:runc mmdebstrap:mmdebstrap rsync:rsync groovy:groovy \
    default-jre-headless:java npm:npm; do
    command -v "${pair#*:}" >/dev/null || missing="$missing ${pair%%:*}"
done
if [ -n "$missing" ]; then
    say "installing$missing"
    apt-get update -qq
    # shellcheck disable=SC2086  # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing \
        >/dev/null
fi

# 2. Runtime settings: crun rejects this VM's hybrid cgroup layout (use runc), and podman's
# default open-file limit needs a capability the VM lacks (explicit ulimits). The tests also
# point CONTAINERS_CONF at tests/container/containers.conf; this makes plain `podman` work too.
conf=/etc/containers/containers.conf
marker="# written by poetflow scripts/container-setup.sh"
if [ ! -e "$conf" ] || grep -qF "$marker" "$conf"; then
    mkdir -p /etc/containers
    cat > "$conf.tmp" <<EOF
$marker
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
EOF
    mv "$conf.tmp" "$conf"
else
    say "leaving the existing $conf alone (export CONTAINERS_CONF=tests/container/containers.conf)"
fi
export CONTAINERS_CONF="$PWD/tests/container/containers.conf"

# 3. The stand-in base image, tagged with exactly the name the Dockerfile's FROM uses.
base=$(awk 'toupper($1) == "FROM" { print $2; exit }' Dockerfile)
if podman image exists "$base"; then
    say "base image $base already present"
else
    say "building a stand-in for $base with mmdebstrap (about a minute)"
    mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null \
        || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    # Like the official slim image: no Python, no CA bundle (the Dockerfile installs both).
    # The host's extra CAs (an HTTPS proxy) are staged so that ca-certificates picks them up.
    mmdebstrap --quiet --variant=apt \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
        --customize-hook='mkdir -p "$1"/usr/local/share/ca-certificates' \
        --customize-hook='cp /usr/local/share/ca-certificates/*.crt "$1"/usr/local/share/ca-certificates/ 2>/dev/null || true' \
        bookworm "$work/base.tar" "$mirror"
    podman import --quiet "$work/base.tar" "$base" >/dev/null
    say "imported $base"
fi
