# PoetFlow's runner image: Debian's Python, git, a pinned Poetry and PoetFlow from this repo's wheel.
# Debian's python3 (not the official python image): Poetry packages are built and tested with
# the interpreter the distribution patches and supports, and the image needs no second Python.
# What each part adds to the base, and what was left out: benchmarks/bench_container.py.
FROM docker.io/library/debian:bookworm-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# Debian security updates land under the same release; exact apt pins would break the build
# each time the archive moves on, so the release (bookworm) is the pin.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates binutils \
    && rm -rf /var/lib/apt/lists/*

ARG POETRY_VERSION=2.5.1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY scripts/slim-venv.py /usr/local/bin/slim-venv
# One virtualenv for Poetry and PoetFlow: they share most of their dependencies (cryptography,
# requests, poetry-core, build, ...), which pip resolves together (the dev venv does the same).
# Then no pip, setuptools or wheel (Poetry makes its own environments with virtualenv's
# bundled seed wheels), no test suites or type stubs, stripped extension modules, and byte
# code only for what every start imports (scripts/slim-venv.py says why).
RUN python3 -m venv /opt/poetflow \
    && /opt/poetflow/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/poetflow/bin/pip install /wheels/poetflow-*.whl "poetry==${POETRY_VERSION}" \
    && /opt/poetflow/bin/pip uninstall -y pip setuptools wheel \
    && python3 /usr/local/bin/slim-venv /opt/poetflow

FROM docker.io/library/debian:bookworm-slim

ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="PoetFlow" \
      org.opencontainers.image.description="Release pipelines for monorepos of Poetry packages." \
      org.opencontainers.image.source="https://github.com/poetflow/poetflow" \
      org.opencontainers.image.url="https://github.com/poetflow/poetflow" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT"

# Runtime only: no compilers, no pip, no venv module (the builder stage had those). No
# documentation or translations (as debian:*-slim drops them, whatever the base's dpkg
# config says), no package cache left behind by apt, and none of git's server-side and
# mail programs (daemon, shell, http-backend, http-push, imap-send, scalar, gitweb): a
# release job clones, commits, tags and pushes. dpkg's path-exclude keeps apt consistent
# for images built on this one.
# hadolint ignore=DL3008
RUN printf 'path-exclude=%s\n' '/usr/share/doc/*' '/usr/share/man/*' '/usr/share/info/*' \
        '/usr/share/locale/*' '/usr/share/lintian/*' '/usr/share/gitweb/*' \
        '/usr/lib/git-core/git-daemon' '/usr/lib/git-core/git-shell' '/usr/bin/git-shell' \
        '/usr/lib/git-core/git-http-backend' '/usr/lib/git-core/git-http-push' \
        '/usr/lib/git-core/git-imap-send' '/usr/lib/git-core/scalar' '/usr/bin/scalar' \
        > /etc/dpkg/dpkg.cfg.d/poetflow-slim \
    && echo 'path-include=/usr/share/locale/locale.alias' >> /etc/dpkg/dpkg.cfg.d/poetflow-slim \
    && apt-get update \
    && apt-get install -y --no-install-recommends python3 git ca-certificates \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/cache/debconf/*-old /var/log/apt \
        /var/log/dpkg.log

COPY --from=builder /opt/poetflow /opt/poetflow
# poetflow-action (the package's console script): poetflow plus the CI hand-over (action
# inputs, outputs, summary, dotenv); the image's entrypoint, and callable from GitLab/Jenkins
# scripts. A Python script, not a shell wrapper: sh drops variables such as INPUT_DRY-RUN
# whose names have hyphens.
RUN ln -s /opt/poetflow/bin/poetflow /opt/poetflow/bin/poetflow-action /opt/poetflow/bin/poetry \
        /usr/local/bin/

# POETFLOW_CONTAINER tells PoetFlow to make an unwritable HOME and a workspace owned by
# another uid work (GitHub's docker actions, Jenkins' `-u uid:gid` docker agents).
ENV POETFLOW_CONTAINER=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    POETRY_VIRTUALENVS_IN_PROJECT=false

# No USER: GitHub runs docker actions as root; Jenkins and GitLab pass their own uid.
ENTRYPOINT ["/usr/local/bin/poetflow-action"]
