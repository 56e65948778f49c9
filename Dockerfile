# Passerelles — production image: daphne serves HTTP and websockets on port 8000 (see docker-compose.yml).
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

# Runtime dependencies only, at the exact versions of requirements.lock (the lock also pins the test
# tools, which production does not need). The code itself runs from /app, not from site-packages.
COPY requirements.lock pyproject.toml README.md ./
RUN python -m pip install -c requirements.lock setuptools \
    && python -m pip install --no-build-isolation -c requirements.lock . \
    && rm -rf build passerelles.egg-info

# The code stays owned by root: the application writes only to its data folders below.
COPY . .

# Named volumes mounted on these folders inherit their owner on first use.
RUN mkdir -p /var/lib/passerelles /srv/static /srv/media \
    && chown -R passerelles:passerelles /var/lib/passerelles /srv/static /srv/media

USER passerelles
EXPOSE 8000

# --proxy-headers: the client address comes from the reverse proxy's X-Forwarded-For.
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", "config.asgi:application"]
