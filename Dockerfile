# linkwatch: the daemon (`linkwatch run`) in a container.
#   docker build -t linkwatch .
#   docker run -v linkwatch-state:/state -v "$PWD/releases:/releases" -p 127.0.0.1:8421:8421 linkwatch
# State lives in the /state volume; the config is /config/config.toml (or LINKWATCH_CONFIG).

# --- build: a virtualenv with linkwatch and its dependencies, nothing else -------------------
FROM python:3.12-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/linkwatch
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/linkwatch/bin/pip install --no-cache-dir . \
    && /opt/linkwatch/bin/python -m compileall -q /opt/linkwatch/lib

# --- run: the virtualenv on a clean slim image, as an unprivileged user ----------------------
FROM python:3.12-slim-bookworm

LABEL org.opencontainers.image.title="linkwatch" \
      org.opencontainers.image.description="Keeps the citations of published press releases alive" \
      org.opencontainers.image.licenses="MIT"

ENV PATH=/opt/linkwatch/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
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
