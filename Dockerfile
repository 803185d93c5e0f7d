# The exchange as a container. Dependencies are pinned by requirements.lock (the versions the
# test suite ran with); the service runs as an unprivileged user whose only writable place is
# the data volume (MARKET_HOME=/data); the application directory is read-only.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.lock pyproject.toml README.md ./
COPY market ./market
COPY pricing ./pricing
COPY contracts ./contracts
RUN pip install --constraint requirements.lock . \
    && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home market \
    && mkdir -p /data \
    && chown market:market /data \
    && chmod 0700 /data \
    && chmod -R a-w /app

ENV MARKET_MODE=production \
    MARKET_HOME=/data \
    MARKET_HOST=0.0.0.0 \
    MARKET_PORT=8000
VOLUME ["/data"]
USER market
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]
# Migrates, creates the first operator from MARKET_BOOTSTRAP_OPERATOR_* if it does not exist,
# then serves. tests/api/test_container_start.py runs this same command line without Docker.
CMD ["market", "serve"]
