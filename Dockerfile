# One image for every raftshard process: pd, store and gateway (see docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY proto ./proto
COPY bench ./bench
COPY test ./test
COPY scripts ./scripts
COPY config ./config
RUN npm ci && npm prune --omit=dev
ENTRYPOINT ["node", "dist/src/cli/main.js"]
