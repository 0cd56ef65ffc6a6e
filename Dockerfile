# The keeper worker image (used by docker-compose.yml): the production dependency set only.
# No compiler, no devnet: the keeper uses the committed ABIs (contracts/generated/abis.ts) and runs the TypeScript
# sources through tsx (a production dependency: there is no separate build step).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/install-npm.sh scripts/check-install.mjs scripts/
# npm ci --omit=dev, with the same fallback and version check as a developer set-up (scripts/install-npm.sh).
RUN bash scripts/install-npm.sh --omit=dev && npm cache clean --force
COPY . .
USER node
ENTRYPOINT ["node", "bin/ballast.mjs"]
CMD ["worker", "--config", "/config/ballast.yaml"]
