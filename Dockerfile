FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# A Chinese TrueType font for the registration certificates (PDF), from Debian.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
COPY config ./config
COPY accounts ./accounts
COPY catalog ./catalog
COPY registry ./registry
RUN pip install --no-cache-dir .

COPY . .
RUN HDC_SECRET_KEY=build-only python manage.py collectstatic --noinput -v0

RUN useradd --system --home /app catalog && mkdir -p /app/var && chown -R catalog /app/var
USER catalog
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120", "--access-logfile", "-"]
