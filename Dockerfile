# monitor: the daemon in a container.
#   docker build -t monitor .
#   docker run -v monitor-data:/data -p 8080:8080 monitor
# Settings: /etc/monitor/monitor.yaml (the repository's default), overridden by MONITOR_*
# variables (MONITOR_DATABASE_URL, MONITOR_SMTP_PASSWORD, ...; *_FILE for Docker secrets).

FROM python:3.11-slim-bookworm AS build
# A C compiler for the matcher's folding (monitor/_fold.c); only this stage has it.
# libc6-dev is not pinned: it must match the base image's libc6, which Debian updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc=4:12.2.0-3 libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY monitor ./monitor
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MONITOR_CONFIG=/etc/monitor/monitor.yaml \
    MONITOR_SERVER_HOST=0.0.0.0
RUN groupadd --system --gid 10001 monitor \
    && useradd --system --uid 10001 --gid monitor --home-dir /data --shell /usr/sbin/nologin monitor \
    && mkdir -p /data/outbox /etc/monitor \
    && chown -R monitor:monitor /data \
    && ln -s /data /etc/monitor/data \
    && ln -s /data/outbox /etc/monitor/outbox
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels /wheels/monitor-*.whl \
    && rm -rf /wheels
COPY monitor.yaml /etc/monitor/monitor.yaml
COPY watchlists /etc/monitor/watchlists
WORKDIR /data
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["monitor", "health"]
ENTRYPOINT ["monitor"]
CMD ["run"]
