# syntax=docker/dockerfile:1
# Till: one image, one process, one SQLite file on a mounted volume (/app/storage).

FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 falls back to a source build when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ENV NEXT_TELEMETRY_DISABLED=1
RUN npm run build

FROM node:20-bookworm-slim AS run
WORKDIR /app
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 PORT=3000 HOSTNAME=0.0.0.0 STORAGE_DIR=/app/storage
RUN groupadd --system --gid 1001 till && useradd --system --uid 1001 --gid till till \
  && mkdir -p /app/storage && chown till:till /app/storage
COPY --from=build --chown=till:till /app/.next/standalone ./.next/standalone
COPY --from=build --chown=till:till /app/scripts/start.mjs ./scripts/start.mjs
USER till
VOLUME ["/app/storage"]
EXPOSE 3000
# Kamal's proxy waits for /up (database open, migrated, writable) before switching traffic.
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s CMD node -e "fetch('http://127.0.0.1:3000/up').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# SIGTERM/SIGINT: the app stops claiming jobs, lets the running job and in-flight requests finish
# (SHUTDOWN_TIMEOUT_SECONDS), closes the database and exits 0 (lib/shutdown.ts).
CMD ["node", "scripts/start.mjs"]
