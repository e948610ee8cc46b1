# linkwatch: the daemon (`linkwatch run`) in a container.
#   docker build -t linkwatch .
#   docker run -v linkwatch-state:/state -v "$PWD/releases:/releases" -p 127.0.0.1:8421:8421 linkwatch
# State lives in the /state volume; the config is /config/config.toml (or LINKWATCH_CONFIG).
# With podman or buildah, build with `--format docker`: the OCI format has no HEALTHCHECK and
# they drop it. Behind a TLS-intercepting proxy or a private index, see the build stage.
#
# The base image by digest, python:3.12.15-slim-bookworm on 2026-10-05 (a multi-platform index):
#   python:3.12-slim-bookworm@sha256:54c85f3c47607a77f32adec749d3c81d1348bf25833671f512b26a9b6d778cb3
# The FROM lines keep the tag, so that Debian's security fixes arrive with a rebuild; pin by
# writing the digest after the tag. Today's digest:
#   docker buildx imagetools inspect python:3.12-slim-bookworm   (or: skopeo inspect --raw
#   docker://docker.io/library/python:3.12-slim-bookworm | sha256sum)

# --- build: a virtualenv with linkwatch and its dependencies, nothing else -------------------
FROM python:3.12-slim-bookworm AS build

# A package index of your own (a mirror or a proxy of PyPI): --build-arg PIP_INDEX_URL=https://...
# The hashes in requirements.lock hold whichever index answers.
ARG PIP_INDEX_URL=https://pypi.org/simple
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/linkwatch
WORKDIR /src
# The dependencies first, from the lock (every pin with its hashes; `bash .ci/lock` makes it),
# in a layer of their own that a change to linkwatch's code does not rebuild.
# A CA bundle for pip (a TLS-intercepting proxy): --secret id=ca,src=/path/to/bundle.pem, with
# docker (BuildKit), buildah and podman alike. It is mounted for this step only, never stored
# in the image; without the secret, pip uses the image's own CA store.
COPY requirements.lock ./
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
    && /opt/linkwatch/bin/pip install --require-hashes -r requirements.lock
# linkwatch itself, built with the locked setuptools, offline; setuptools then leaves the venv.
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/linkwatch/bin/pip install --no-deps --no-build-isolation --no-index . \
    && /opt/linkwatch/bin/pip uninstall -y setuptools \
    && /opt/linkwatch/bin/python -m compileall -q /opt/linkwatch/lib

# --- run: the virtualenv on a clean slim image, as an unprivileged user ----------------------
FROM python:3.12-slim-bookworm

LABEL org.opencontainers.image.title="linkwatch" \
      org.opencontainers.image.description="Keeps the citations of published press releases alive" \
      org.opencontainers.image.licenses="MIT"

# TMPDIR: the few temporary files (the worker pool's socket folder, SQLite's spill files) go to
# the volume too, so that the container writes nothing outside /state and its root file
# system can be read-only.
ENV PATH=/opt/linkwatch/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TMPDIR=/state \
    LINKWATCH_CONFIG=/config/config.toml \
    LINKWATCH_HEALTHZ=http://127.0.0.1:8421/healthz

RUN groupadd --system --gid 10001 linkwatch \
    && useradd --system --uid 10001 --gid linkwatch --home-dir /state --no-create-home \
       --shell /usr/sbin/nologin linkwatch \
    && mkdir -p /state /config /releases \
    && chown linkwatch:linkwatch /state /releases

COPY --from=build /opt/linkwatch /opt/linkwatch
COPY examples/container/config.toml /config/config.toml

USER 10001:10001
WORKDIR /state
VOLUME ["/state"]
EXPOSE 8421

# 200 only while the scheduler runs and the database answers (see /healthz's JSON).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['LINKWATCH_HEALTHZ'], timeout=4)"]

# linkwatch stops taking work on SIGTERM and exits within run.grace (10 s by default).
STOPSIGNAL SIGTERM
ENTRYPOINT ["linkwatch"]
CMD ["run"]
