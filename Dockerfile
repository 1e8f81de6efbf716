# syntax=docker/dockerfile:1
# Gatehouse: `gatehouse serve` on the official Node 24 image, as a non-root user.
#
# Node runs the TypeScript sources directly (type stripping: bin/gatehouse.js imports
# ../src/main.ts), so there is no compile step: the build stage only typechecks, then drops the
# dev dependencies. The runtime image holds the sources and production node_modules only.
#
# Production configuration is refused at start-up unless it has (config/config.loader.ts):
#   GATEHOUSE_SECRET_KEY  at least 32 random bytes, base64 (e.g. `openssl rand -base64 32`)
#   DATABASE_URL          postgres://... (the embedded database is for development only)
#   PUBLIC_URL            an https:// URL, the address people and IdPs reach Gatehouse at
# `serve` applies pending migrations when it opens the database.
#
#   docker build -t gatehouse .
#   docker run -p 8080:8080 -p 8081:8081 -e GATEHOUSE_SECRET_KEY=... \
#     -e DATABASE_URL=postgres://... -e PUBLIC_URL=https://id.example.com gatehouse

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# All dependencies, dev ones included (typescript, type packages). `npm install`, not `npm ci`:
# the lockfile records only the linux-x64 builds of the optional native packages (swc and
# friends), which `npm ci` refuses as out of sync; install keeps the locked versions otherwise.
RUN npm install --no-audit --no-fund
COPY . .
# Typecheck (tsconfig's test/ is not in the context), then keep production dependencies only.
# scim/ and saml/ may still be empty, and git keeps no empty directory: make sure both exist.
RUN npx tsc -p tsconfig.json \
 && npm prune --omit=dev --no-audit --no-fund \
 && mkdir -p scim saml

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    GATEWAY_PORT=8081
WORKDIR /app
# Owned by root: the service user can read the code but not rewrite it.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/src ./src
COPY --from=build /app/config ./config
COPY --from=build /app/migrations ./migrations
COPY --from=build /app/scim ./scim
COPY --from=build /app/saml ./saml
# `node` is the unprivileged user (uid 1000) of the official image.
USER node
EXPOSE 8080 8081
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "bin/gatehouse.js", "serve"]
