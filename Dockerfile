# syntax=docker/dockerfile:1
# Till: one image, one process, one SQLite file on a mounted volume (/app/storage).
# Each stage's commands also run outside Docker, in the same order (docs/deployment.md).

# Node 22 LTS: better-sqlite3 12.x ships prebuilt binaries for it.
FROM node:22-bookworm-slim AS deps
WORKDIR /app
# Only for the fallback: better-sqlite3 builds from source when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY . .
ENV NEXT_TELEMETRY_DISABLED=1
# The standalone server (.next/standalone), with the front server (front-server.mjs) and the
# operations scripts bundled beside it.
RUN npm run build && npm run build:ops

FROM node:22-bookworm-slim AS run
WORKDIR /app
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 PORT=3000 HOSTNAME=0.0.0.0 STORAGE_DIR=/app/storage
# sqlite3 is the read-only SQL console (the `sql` alias in config/deploy.yml); psql and pg_dump
# are the console and the dump of the PostgreSQL destination (config/deploy.postgres.yml),
# version 15 as the servers'.
RUN apt-get update && apt-get install -y --no-install-recommends sqlite3 postgresql-client-15 && rm -rf /var/lib/apt/lists/* \
  && groupadd --system --gid 1001 till && useradd --system --uid 1001 --gid till --home /app till \
  && mkdir -p /app/storage && chown till:till /app/storage
# Code is owned by root and read-only to the app; only the volume is writable.
COPY --from=build /app/.next/standalone ./.next/standalone
# Migrations ship in the image: boot applies them, and so does ops/migrate.cjs run from /app.
COPY --from=build /app/db/migrations ./db/migrations
COPY --from=build /app/db/pg/migrations ./db/pg/migrations
# next/image keeps its optimized images here: the one place in the code tree the app writes.
RUN mkdir -p .next/standalone/.next/cache && chown till:till .next/standalone/.next/cache
USER till
VOLUME ["/app/storage"]
EXPOSE 3000
# Kamal's proxy waits for /up (database open, migrated, writable) before switching traffic.
# The shell fills in $PORT when the check runs: the port the app listens on, whatever it is set to.
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s CMD node -e "fetch('http://127.0.0.1:$PORT/up').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# SIGTERM/SIGINT: the app stops claiming jobs, lets the running job and in-flight requests finish
# (SHUTDOWN_TIMEOUT_SECONDS), closes the database and exits 0 (lib/platform/shutdown.ts).
CMD ["node", ".next/standalone/front-server.mjs"]
