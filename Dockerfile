FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY market ./market
COPY pricing ./pricing
COPY contracts ./contracts
RUN pip install --no-cache-dir . && useradd --create-home market
USER market
ENV MARKET_MODE=production
EXPOSE 8000
# One process per container: `market serve` (API) or `market worker` (jobs); see docker-compose.yml.
CMD ["sh", "-c", "market db upgrade && market serve --host 0.0.0.0 --no-migrate --no-seed"]
