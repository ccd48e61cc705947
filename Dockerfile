# One image for every kai-jobs process — the workers, the monitor, the board, or all of them in
# one (`start`). The command is `kai-jobs <command>`:
#   docker build -t kai-jobs .
#   docker run --rm kai-jobs --help
#   docker run --rm -e REDIS_URL=redis://redis:6379 kai-jobs worker
# TypeScript runs from source through tsx, as everywhere in this repository.

ARG NODE_IMAGE=node:22-slim

# --- dependencies: installed once, from the lockfile only ------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# pnpm from npm: corepack's signature check fails for pnpm 12.4.2.
RUN npm install -g pnpm@12.4.2
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY packages/queue/package.json packages/queue/
COPY packages/checkpoint/package.json packages/checkpoint/
COPY packages/workers/package.json packages/workers/
COPY packages/monitor/package.json packages/monitor/
COPY apps/board/package.json apps/board/
COPY apps/cli/package.json apps/cli/
# --prod=false: tsx and the type-only packages are needed at run time (sources are run as is).
RUN pnpm install --frozen-lockfile --prod=false

# --- runtime: the sources on top of the installed dependencies, as a non-root user ------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    ARTIFACTS_DIR=/data/artifacts \
    LOG_FORMAT=json
WORKDIR /app
COPY --from=deps --chown=node:node /app /app
COPY --chown=node:node . .
RUN mkdir -p /data/artifacts && chown node:node /data/artifacts
USER node
EXPOSE 3000
# Exec form: the node process gets SIGTERM directly (graceful shutdown); `init: true` in
# docker-compose.yml (or `docker run --init`) reaps the PDF renderer's worker threads' children.
ENTRYPOINT ["node", "--import", "tsx", "apps/cli/src/bin/kai-jobs.ts"]
CMD ["start"]
