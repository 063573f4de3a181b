# The applier image: both migration Jobs of helm/migrations run it (`harness postgres up`,
# `harness cassandra up`). Build: docker build -t migrations-harness:dev .
#
# BASE_IMAGE must provide python3.11+ with the venv module at the same path in both stages
# (the venv is copied from the build stage). Behind a registry mirror, pass e.g.
#   --build-arg BASE_IMAGE=mirror.example/python:3.11-slim-bookworm
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml ./
COPY harness ./harness
# Build the wheel first, then install it (and only its runtime dependencies) into a venv that the
# runtime stage copies; no compiler, pip cache or source tree reaches the final image.
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/python -m pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/venv/bin/python -m pip install /wheels/*.whl \
    && /opt/venv/bin/harness --help >/dev/null

FROM ${BASE_IMAGE} AS runtime
ARG UID=10001
LABEL org.opencontainers.image.title="migrations-harness" \
      org.opencontainers.image.description="Applies the PostgreSQL (dbmate-compatible) and Cassandra migrations"
# A fixed numeric non-root user, matching runAsUser in the chart; HOME and TMPDIR point at /tmp,
# the only writable path when the root filesystem is read-only (the chart mounts an emptyDir there).
RUN groupadd --system --gid "${UID}" harness \
    && useradd --system --uid "${UID}" --gid harness --home-dir /tmp --no-create-home \
       --shell /usr/sbin/nologin harness
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Migrations are baked in, owned by root and read-only for the applier.
COPY migrations ./migrations
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TMPDIR=/tmp
USER ${UID}:${UID}
ENTRYPOINT ["harness"]
CMD ["--help"]
