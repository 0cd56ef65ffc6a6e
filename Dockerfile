# The keeper worker image (used by docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm install --no-save tsx@4.23.15
COPY . .
RUN npx tsx contracts/compile.ts
USER node
ENTRYPOINT ["node", "bin/ballast.mjs"]
CMD ["worker", "--config", "/config/ballast.yaml"]
