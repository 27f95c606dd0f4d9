# PoetFlow's runner image: Debian's Python, git, a pinned Poetry and PoetFlow from this repo's wheel.
# Debian's python3 (not the official python image): Poetry packages are built and tested with
# the interpreter the distribution patches and supports, and the image needs no second Python.
FROM docker.io/library/debian:bookworm-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# Debian security updates land under the same release; exact apt pins would break the build
# each time the archive moves on, so the release (bookworm) is the pin.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/*

ARG POETRY_VERSION=2.5.1
# Poetry gets its own virtualenv so its dependencies never clash with PoetFlow's.
RUN python3 -m venv /opt/poetry \
    && /opt/poetry/bin/pip install "poetry==${POETRY_VERSION}"

WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python3 -m venv /opt/poetflow \
    && /opt/poetflow/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/poetflow/bin/pip install /wheels/poetflow-*.whl \
    && /opt/poetflow/bin/pip uninstall -y pip setuptools \
    && find /opt -name __pycache__ -prune -exec rm -rf {} +

FROM docker.io/library/debian:bookworm-slim

ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="PoetFlow" \
      org.opencontainers.image.description="Release pipelines for monorepos of Poetry packages." \
      org.opencontainers.image.source="https://github.com/poetflow/poetflow" \
      org.opencontainers.image.url="https://github.com/poetflow/poetflow" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT"

# Runtime only: no compilers, no pip, no venv module (the builder stage had those).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 git ca-certificates \
    && rm -rf /var/lib/apt/lists/*

COPY --from=builder /opt/poetry /opt/poetry
COPY --from=builder /opt/poetflow /opt/poetflow
COPY entrypoint.py /opt/poetflow/entrypoint.py
# poetflow-action: poetflow plus the CI hand-over (action inputs, outputs, summary, dotenv);
# the image's entrypoint, and callable from GitLab/Jenkins scripts. A Python script, not a
# shell wrapper: sh drops variables such as INPUT_DRY-RUN whose names have hyphens.
RUN ln -s /opt/poetflow/bin/poetflow /usr/local/bin/poetflow \
    && ln -s /opt/poetry/bin/poetry /usr/local/bin/poetry \
    && sed '1i #!/opt/poetflow/bin/python' /opt/poetflow/entrypoint.py \
        > /usr/local/bin/poetflow-action \
    && chmod 755 /usr/local/bin/poetflow-action

# POETFLOW_CONTAINER tells PoetFlow to make an unwritable HOME and a workspace owned by
# another uid work (GitHub's docker actions, Jenkins' `-u uid:gid` docker agents).
ENV POETFLOW_CONTAINER=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    POETRY_VIRTUALENVS_IN_PROJECT=false

# No USER: GitHub runs docker actions as root; Jenkins and GitLab pass their own uid.
ENTRYPOINT ["/usr/local/bin/poetflow-action"]
