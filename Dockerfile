# Passerelles — production image: uvicorn serves HTTP, daphne the websockets, each on port 8000 of its own
# service (docker-compose.yml: web and ws; the worker runs manage.py db_worker).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    PASSERELLES_VAR_DIR=/var/lib/passerelles \
    STATIC_ROOT=/srv/static \
    MEDIA_ROOT=/srv/media

WORKDIR /app

RUN groupadd --system passerelles \
    && useradd --system --gid passerelles --home-dir /app --shell /usr/sbin/nologin passerelles

# pg_dump and pg_restore for `manage.py backup` and `restore`: Debian bookworm's client, version 15, the
# same major version as the postgres service (docker-compose.yml; pg_dump refuses a newer server).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*

# Runtime dependencies only (requirements.lock; the test and load-test tools are in requirements-dev.lock),
# at their exact versions, every file checked against its hash. The code runs from /app: the project itself
# is not installed.
COPY requirements.lock ./
RUN python -m pip install --require-hashes -r requirements.lock \
    && python -m pip check

# The code stays owned by root: the application writes only to its data folders below.
COPY . .

# Named volumes mounted on these folders inherit their owner on first use (/backups: manage.py backup).
RUN mkdir -p /var/lib/passerelles /srv/static /srv/media /backups \
    && chown -R passerelles:passerelles /var/lib/passerelles /srv/static /srv/media /backups

USER passerelles
EXPOSE 8000

# HTTP by default (docker-compose.yml gives each service its command). --proxy-headers: the client address
# comes from the reverse proxy's X-Forwarded-For, which nginx writes (deploy/nginx.conf).
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", \
     "--proxy-headers", "--forwarded-allow-ips", "*", "--lifespan", "off", "--no-access-log"]
