# One Dockerfile, one target per service:
#   docker build --target echo-server -t echo-pair/echo-server .
#   docker build --target client-worker -t echo-pair/client-worker .
# Plain Dockerfile syntax (no `# syntax=` line, no BuildKit-only mounts), so it builds with the
# classic builder too and needs no frontend image from a registry.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: every dependency, then compile the workspaces ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first: the `npm ci` layer is reused until a manifest or the lockfile changes.
COPY package.json package-lock.json ./
COPY libs/common/package.json libs/common/
COPY services/echo-server/package.json services/echo-server/
COPY services/client-worker/package.json services/client-worker/
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.base.json tsconfig.json ./
COPY libs/common/tsconfig.json libs/common/
COPY libs/common/src libs/common/src
COPY services/echo-server/tsconfig.json services/echo-server/
COPY services/echo-server/src services/echo-server/src
COPY services/client-worker/tsconfig.json services/client-worker/
COPY services/client-worker/src services/client-worker/src
# The images' workspaces only (not libs/testcontainers, a test library: `npm ci` skips a
# workspace whose folder is absent, and its dependencies are dev ones, pruned below).
RUN npx tsc -b libs/common services/echo-server services/client-worker \
 && npm prune --omit=dev --no-audit --no-fund --ignore-scripts \
 && find . -path ./node_modules -prune -o \( -name '*.tsbuildinfo' -o -name '*.d.ts' -o -name '*.d.ts.map' \) -type f -print0 | xargs -0 rm -f

# ---- runtime: production dependencies and compiled code, owned by root, run as `node` ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/libs/common/package.json libs/common/
COPY --from=build /app/libs/common/dist libs/common/dist
USER node

FROM runtime AS echo-server
COPY --from=build /app/services/echo-server/package.json services/echo-server/
COPY --from=build /app/services/echo-server/dist services/echo-server/dist
ENV ECHO_HOST=0.0.0.0 ECHO_PORT=3000 TEXT_PORT=3001 UDP_PORT=3001 METRICS_PORT=9464
# 3000: Nest's framed TCP (the typed client); 3001/tcp: the plain-text gateway (nc, tutorial clients); 3001/udp: datagrams;
# 9464: HTTP /metrics, /healthz, /readyz.
EXPOSE 3000 3001 3001/udp 9464
# Speaks the protocol: sends `hello` through the real framing and checks the welcome.
HEALTHCHECK --interval=5s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "services/echo-server/dist/healthcheck.js"]
STOPSIGNAL SIGTERM
# V8's heap sized from the container's memory limit (the script says why), then `exec node`.
COPY services/echo-server/bin/start-in-container.sh services/echo-server/bin/
CMD ["sh", "services/echo-server/bin/start-in-container.sh"]

FROM runtime AS client-worker
COPY --from=build /app/services/client-worker/package.json services/client-worker/
COPY --from=build /app/services/client-worker/dist services/client-worker/dist
ENV ECHO_SERVER_HOST=echo-server ECHO_SERVER_PORT=3000
STOPSIGNAL SIGTERM
# The mode is the argument: `docker run ... client-worker repl` (demo by default).
ENTRYPOINT ["node", "services/client-worker/dist/main.js"]
CMD ["demo"]
