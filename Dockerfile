# One image for every raftshard process: pd, store and gateway (see docker-compose.yml).
# Build stage: the TypeScript build needs the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY proto ./proto
COPY bench ./bench
COPY test ./test
COPY scripts ./scripts
COPY config ./config
RUN npm ci && npm prune --omit=dev

# Run stage: the built code, production dependencies, protos and config only, as the unprivileged "node" user.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/proto ./proto
COPY --from=build /app/config ./config
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
ENTRYPOINT ["node", "dist/src/cli/main.js"]
