# One image for every kai-jobs process — the workers, the monitor, the board, or all of them in
# one (`start`). The command is `kai-jobs <command>`:
#   docker build -t kai-jobs .
#   docker run --rm kai-jobs --help
#   docker run --rm -e REDIS_URL=redis://redis:6379 kai-jobs worker
# The image runs the compiled JavaScript (`pnpm build`) with plain node: no TypeScript compiler,
# no tsx and no development dependencies in it. NODE_IMAGE picks the base; the container tests
# build on a local one made from Debian and npm packages (scripts/container-base-image.sh).

ARG NODE_IMAGE=node:22-slim

# --- pnpm on the base ----------------------------------------------------------------------
FROM ${NODE_IMAGE} AS pnpm
# pnpm from npm: corepack's signature check fails for pnpm 12.4.2.
RUN npm install -g pnpm@12.4.2 && npm cache clean --force
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY packages/queue/package.json packages/queue/
COPY packages/checkpoint/package.json packages/checkpoint/
COPY packages/workers/package.json packages/workers/
COPY packages/monitor/package.json packages/monitor/
COPY apps/board/package.json apps/board/
COPY apps/cli/package.json apps/cli/

# --- build: every dependency, then the compiled dist/ of each package ------------------------
FROM pnpm AS build
RUN pnpm install --frozen-lockfile
COPY tsconfig.base.json tsconfig.build.json ./
COPY scripts/build.mjs scripts/
COPY packages packages
COPY apps apps
RUN node scripts/build.mjs --clean

# --- production dependencies only, from the lockfile -----------------------------------------
FROM pnpm AS prod-deps
RUN pnpm install --frozen-lockfile --prod && rm -rf /root/.local/share/pnpm /root/.cache

# --- runtime: the production dependencies and the compiled code, read-only to the non-root user --
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    ARTIFACTS_DIR=/data/artifacts \
    LOG_FORMAT=json
WORKDIR /app
# Owned by root: the `node` user runs the code but cannot change it.
COPY --from=prod-deps /app /app
COPY --from=build /app/packages/queue/dist packages/queue/dist
COPY --from=build /app/packages/checkpoint/dist packages/checkpoint/dist
COPY --from=build /app/packages/workers/dist packages/workers/dist
COPY --from=build /app/packages/monitor/dist packages/monitor/dist
COPY --from=build /app/apps/board/dist apps/board/dist
COPY --from=build /app/apps/cli/dist apps/cli/dist
# The only writable places: the artifacts volume and the temporary folder.
RUN mkdir -p /data/artifacts /data/uploads && chown node:node /data/artifacts
USER node
EXPOSE 3000
# Exec form: the node process gets SIGTERM directly (graceful shutdown); `init: true` in
# docker-compose.yml (or `docker run --init`) reaps the PDF renderer's worker threads' children.
ENTRYPOINT ["node", "apps/cli/dist/bin/kai-jobs.js"]
CMD ["start"]
