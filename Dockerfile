# The weiguan image: the HTTP server by default; the same image runs the CLI
# (docker-compose.yml's scheduler: python -u -m weiguan.cli.app schedule run).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first: this layer is rebuilt only when requirements.txt changes. The
# runtime only: the test tools (requirements-dev.txt), tests/ and bench/ stay out
# (.dockerignore).
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

RUN useradd --create-home --uid 1000 weiguan \
    && mkdir -p /data \
    && chown weiguan:weiguan /data
USER weiguan

ENV WG_HOST=0.0.0.0 \
    WG_PORT=8000 \
    WG_DATA_PATH=/data

EXPOSE 8000
VOLUME ["/data"]

# The slim image has no curl: the probe is Python's own HTTP client.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=5 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('WG_PORT', '8000') + '/health', timeout=3)"]

CMD ["python", "-u", "-m", "weiguan.web.app"]
