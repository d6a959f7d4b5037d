# Regellotsen: one image for every channel; the command picks the channel.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    REGELLOTS_KNOWLEDGE=/app/knowledge \
    REGELLOTS_STATE=/data/state.sqlite3 \
    PORT=3978

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
RUN pip install --no-compile . && useradd --system --uid 10001 --home-dir /app regellots \
    && mkdir -p /data && chown regellots /data
COPY knowledge ./knowledge

USER regellots
VOLUME ["/data"]
EXPOSE 3978

# Liveness of the HTTP channels (Teams, Telegram webhook): the process answers /healthz.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"3978\")}/healthz', timeout=2)" || exit 1

# docker stop sends this; the bot finishes accepted turns within REGELLOTS_DRAIN_SECONDS (docs/deploy.md)
STOPSIGNAL SIGTERM
CMD ["sh", "-c", "exec regellots teams --host 0.0.0.0 --port ${PORT}"]
