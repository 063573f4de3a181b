# The applier base image: the `harness` CLI (the package's base install, no test tools) and nothing else.
# A team's image is this plus its migrations (examples/seed-layout/Dockerfile, docker/app/Dockerfile):
#   FROM migrations-harness:0.2.0
#   COPY postgres/db/migrations/ /migrations/postgres/
#   COPY cassandra/migrations/ /migrations/cassandra/
# Build: docker build -t migrations-harness:0.2.0 .
#
# BASE_IMAGE defaults to python:3.11-slim-bookworm pinned by the digest of its multi-platform index (Python
# 3.11.16, as recorded by the Docker Official Images' repo-info); behind a registry mirror or offline, pass
#   --build-arg BASE_IMAGE=mirror.example/python:3.11-slim-bookworm@sha256:...
# Any base with python3.11 and its venv module at the same path in both stages works.
ARG BASE_IMAGE=python:3.11-slim-bookworm@sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY requirements/ ./requirements/
# The runtime dependencies, hash-checked (requirements/image.txt, pip-compile --generate-hashes), into a
# venv without pip; a second venv holds the hash-checked build tools and does the installing.
RUN python3 -m venv /opt/build \
    && /opt/build/bin/pip install --require-hashes -r requirements/build.txt \
    && python3 -m venv --without-pip /opt/venv \
    && /opt/build/bin/pip --python /opt/venv/bin/python install --require-hashes -r requirements/image.txt
COPY pyproject.toml ./
COPY harness ./harness
# hadolint ignore=DL3013
RUN /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /wheels . \
    && /opt/build/bin/pip --python /opt/venv/bin/python install --no-deps --no-index /wheels/*.whl \
    && /opt/build/bin/pip --python /opt/venv/bin/python check \
    && /opt/venv/bin/harness --help >/dev/null

FROM ${BASE_IMAGE} AS runtime
ARG UID=10001
LABEL org.opencontainers.image.title="migrations-harness" \
      org.opencontainers.image.description="The harness applier: applies PostgreSQL (dbmate-compatible) and Cassandra migrations from /migrations"
# A fixed numeric non-root user, matching runAsUser in the chart; HOME and TMPDIR point at /tmp, the only
# writable path when the root filesystem is read-only (the chart mounts an emptyDir there).
RUN groupadd --system --gid "${UID}" harness \
    && useradd --system --uid "${UID}" --gid harness --home-dir /tmp --no-create-home \
       --shell /usr/sbin/nologin harness
COPY --from=build /opt/venv /opt/venv
# Where the applier looks for the migrations: settings, so a team's image only adds its directories there
# (and a pod can point elsewhere with HARNESS_POSTGRES_MIGRATIONS / HARNESS_CASSANDRA_MIGRATIONS).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TMPDIR=/tmp \
    HARNESS_POSTGRES_MIGRATIONS=/migrations/postgres \
    HARNESS_CASSANDRA_MIGRATIONS=/migrations/cassandra \
    HARNESS_CONTRACT=/migrations/contract.md \
    HARNESS_EXPECTED_SCHEMA=/migrations/expected-schema.json
WORKDIR /
USER ${UID}:${UID}
ENTRYPOINT ["harness"]
CMD ["--help"]
