# One image for the control API (default) and the agent (`cybercorp-agent` as the command).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json ./
COPY protocol/package.json protocol/
COPY logging/package.json logging/
COPY collector-agent/package.json collector-agent/
COPY control-api/package.json control-api/
COPY grafana-app-plugin/package.json grafana-app-plugin/
RUN npm ci --no-audit --no-fund
COPY protocol protocol
COPY logging logging
COPY collector-agent collector-agent
COPY control-api control-api
COPY scripts/alert-webhook.mjs scripts/
RUN npx tsc -b protocol logging collector-agent control-api && npm run bundle -w collector-agent \
  && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
COPY --from=build /app /app
# The signing-key volume of docker-compose: a fresh named volume takes this directory's owner.
RUN mkdir -p /var/lib/cybercorp/keys && chown node:node /var/lib/cybercorp/keys
USER node
EXPOSE 8080
CMD ["node", "control-api/dist/bin.js"]
