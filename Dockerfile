# syntax=docker/dockerfile:1
# Build:  docker build -t inference-gateway:local .   (or `task build`)
# Node 24 is the current Active LTS; package.json only requires >= 20.19.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: full dependency tree, TypeScript -> dist/ ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies + compiled JS only ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# A numeric, non-root UID (not the image's `node`, 1000): Kubernetes' runAsNonRoot can only verify a
# numeric USER, and the Deployment pins the same 10001. The app files stay root-owned and read-only.
RUN groupadd --system --gid 10001 gateway \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin gateway
USER 10001:10001
# Containers must listen on all interfaces (the gateway's own default is 127.0.0.1).
ENV SERVER_HOST=0.0.0.0 SERVER_PORT=8080
EXPOSE 8080
# Slim images have no curl: probe /health with Node's fetch (never needs a token).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.SERVER_PORT || 8080) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node as PID 1 receives SIGTERM directly (no npm wrapper swallowing it), so shutdown can drain.
# A 16 MB young generation (semi-space), as Node 20 sizes it: Node 24 sizes it from the machine's memory
# (much larger on a big node), which took a 1,000-stream burst from ~195 to ~280 MB of RSS (bench/RESULTS.md).
CMD ["node", "--max-semi-space-size=16", "dist/main.js"]
