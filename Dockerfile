# The keeper worker image (used by docker-compose.yml): the production dependency set only.
# No compiler, no devnet: the keeper uses the committed ABIs (contracts/generated/abis.ts) and runs the TypeScript
# sources through tsx (a production dependency); the one build step is the workflow bundle (npm run build:bundle).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/install-npm.sh scripts/check-install.mjs scripts/
# npm ci --omit=dev, with the same fallback and version check as a developer set-up (scripts/install-npm.sh).
RUN bash scripts/install-npm.sh --omit=dev && npm cache clean --force
COPY . .
# The worker's workflow bundle, prebuilt once (keeper/workflowBundle.ts checks it against the sources at start).
RUN npm run build:bundle
USER node
ENTRYPOINT ["node", "bin/ballast.mjs"]
CMD ["worker", "--config", "/config/ballast.yaml"]
