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
# --max-old-space-size-percentage=75: V8's heap may use three quarters of the container's memory
# limit. Node's own default is about half, and 259 MiB under both 256M and 512M here (more than the
# stack's own 256M): a fleet too large died with "heap out of memory" while the rest of its limit
# stood unused (20,000 workloads under 512M with 303 MiB used, 40,000 under 1G with 587), or the
# kernel killed it under 256M with no word. With it 256M holds about 8,000 workloads, 512M 20,000
# and 1G 45,000 (bench/scale.ts, which reads these options from here; docs/benchmarks.md).
ENTRYPOINT ["node", "--max-old-space-size-percentage=75", "/app/dist/cli.js"]
CMD ["run"]
