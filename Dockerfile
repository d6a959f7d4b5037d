# Regellotsen: one image for every channel; the command picks the channel.
# Stage 1 builds the wheel (code and the shipped knowledge base); stage 2 installs only the wheel.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY knowledge ./knowledge
RUN pip wheel --quiet --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    REGELLOTS_ENV=production \
    REGELLOTS_STATE=/data/state.sqlite3 \
    PORT=3978
COPY --from=build /wheels /wheels
RUN pip install --quiet --no-compile /wheels/*.whl && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /data regellots \
    && mkdir -p /data && chown regellots /data

USER regellots
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3978

# Every long-running mode serves /healthz on $PORT: Teams, the Telegram webhook, and Telegram long
# polling (health only). Run Telegram with PORT set to the port it listens on (see docs/deploy.md).
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-m", "bot.healthcheck"]

# docker stop sends this; the bot finishes accepted turns within REGELLOTS_DRAIN_SECONDS (docs/deploy.md)
STOPSIGNAL SIGTERM
CMD ["sh", "-c", "exec regellots teams --host 0.0.0.0 --port ${PORT}"]
