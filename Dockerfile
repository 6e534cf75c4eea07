# Baton in a container: `baton serve` (gunicorn) on port 3000, as a non-root user.
# Installed by scripts/install, the same script `make` and CI run (.ci/run runs it without the
# development tools too, as here). See README: Container.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/baton/venv/bin:$PATH \
    BATON_LOG_FORMAT=json \
    DATABASE_URL=sqlite:////data/baton.db \
    MPLCONFIGDIR=/tmp/matplotlib

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin baton

WORKDIR /app
COPY pyproject.toml requirements.lock README.md manifest.yml ./
COPY scripts/install scripts/install
COPY bot bot
COPY handlers handlers
COPY scheduler scheduler
COPY store store
COPY sandbox sandbox
COPY policies policies
RUN bash scripts/install /opt/baton/venv \
    && rm -rf /root/.cache \
    && chown -R root:root /app && chmod -R a+rX /app \
    && mkdir /data && chown baton:baton /data

# without a DATABASE_URL (compose.yml gives PostgreSQL's) a SQLite file is kept here
VOLUME /data
USER baton
EXPOSE 3000
# liveness only: /readyz (database reachable and migrated) is for the balancer or Kubernetes
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"]
ENTRYPOINT ["baton"]
CMD ["serve", "--host", "0.0.0.0", "--port", "3000"]
