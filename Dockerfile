# Yishi production image: multi-stage, non-root, static files collected at build time,
# uvicorn workers as the entry point, a health check on /healthz.
# (No Docker engine runs on the development machine: this file is kept simple and checked by reading.)

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements/base.txt requirements/base.txt
RUN python -m venv /venv && /venv/bin/pip install -r requirements/base.txt
COPY . .
# collectstatic and compilemessages need settings but no real secrets or services.
RUN DJANGO_SETTINGS_MODULE=yishi.settings.dev /venv/bin/python manage.py compilemessages -v0 \
    && DJANGO_SETTINGS_MODULE=yishi.settings.base DJANGO_SECRET_KEY=build-only \
       /venv/bin/python manage.py collectstatic --noinput -v0

FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 PATH=/venv/bin:$PATH DJANGO_SETTINGS_MODULE=yishi.settings.production \
    WEB_CONCURRENCY=2 YISHI_PROXY_ADDRESS=127.0.0.1
RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /app yishi
WORKDIR /app
COPY --from=build /venv /venv
COPY --from=build --chown=yishi:yishi /app /app
# Mount points of the uploaded-file volumes, owned by the app user (docs/files.md).
RUN mkdir -p /app/var/media /app/var/private && chown yishi:yishi /app/var/media /app/var/private
USER yishi
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS -H "X-Forwarded-Proto: https" http://127.0.0.1:8000/healthz || exit 1
# uvicorn serves HTTP and websockets; several workers per container, several containers per host.
# X-Forwarded-For is believed only from YISHI_PROXY_ADDRESS, the proxy's address (never '*':
# anyone reaching port 8000 could then pick the address that rate limits and logs see).
# Websocket frames up to 1 MiB reach the app, which answers those over its 8 KB limit with a
# `too_large` error; bigger ones are closed by uvicorn (1009). No per-message deflate: chat
# frames are small. uvicorn's sans-I/O websockets protocol: the legacy one is deprecated.
# docs/realtime.md gives the same command and why (tests/core/test_server_command.py).
CMD ["sh", "-c", "uvicorn yishi.asgi:application --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY} --proxy-headers --forwarded-allow-ips=\"${YISHI_PROXY_ADDRESS}\" --ws-max-size 1048576 --ws-per-message-deflate false --ws core.realtime.server:WebSocketProtocol"]
