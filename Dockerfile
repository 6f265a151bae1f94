# appproxy: the sidecar (`appproxy run`) and its read-only Docker proxy (`appproxy docker-proxy`).
#
# With a registry, `docker build .` pulls the official Node image. Without one (this project's CI),
# scripts/build-images.sh builds a local Node image (images/node, given as NODE_IMAGE) and fills
# .npm-cache/ with an npm cache, so that `npm ci` below needs no network; the placeholder keeps the
# COPY valid either way.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY .npm-cache* /tmp/npm-cache/
RUN npm ci --prefer-offline --cache /tmp/npm-cache --ignore-scripts --no-audit --no-fund
COPY src ./src
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER node
EXPOSE 9180
# Liveness, not readiness: an etcd outage must not get the sidecar restarted (it would not help).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.APPPROXY_LISTEN || '0.0.0.0:9180').split(':').pop() + '/livez').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
# Exec form: node is PID 1's child-free process and receives SIGTERM itself.
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["run"]
