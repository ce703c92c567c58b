# The browser libraries (Chart.js), from the npm registry as package-lock.json pins them.
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# A Chinese TrueType font for the registration certificates (PDF), from Debian.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*

# The dependencies, from pyproject.toml alone: this layer is rebuilt only when they change.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The application is run from /app, not installed: every process — gunicorn, `celery -A
# config worker` and `beat` (which put the working directory on the path only while they
# import `config`), manage.py — imports all its packages, templates and data from here.
COPY . .
# Only the built files of the browser libraries, where STATICFILES_DIRS looks for them.
COPY --from=assets /build/node_modules/chart.js/dist /app/node_modules/chart.js/dist
ENV PYTHONPATH=/app
RUN HDC_SECRET_KEY=build-only python manage.py collectstatic --noinput -v0

RUN useradd --system --home /app catalog \
    && mkdir -p /app/var /srv/reports && chown -R catalog /app/var /srv/reports
USER catalog
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120", "--access-logfile", "-"]
