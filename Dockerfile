# One image for the orchestrator, the demo agents and the `orchestrator` command line; the command picks which
# (`docker compose exec orchestrator npx orchestrator list`).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/contracts/package.json libs/contracts/
COPY libs/agent-sdk/package.json libs/agent-sdk/
COPY libs/client/package.json libs/client/
COPY apps/dashboard/package.json apps/dashboard/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY libs libs
COPY apps apps
RUN npx tsc -b apps/orchestrator apps/demo-agents apps/cli apps/dashboard && npm run build -w apps/dashboard

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/contracts/package.json libs/contracts/
COPY libs/agent-sdk/package.json libs/agent-sdk/
COPY libs/client/package.json libs/client/
COPY apps/dashboard/package.json apps/dashboard/
# No install scripts in the image that runs: production dependencies need none (swagger-ui's only
# reports its installation; msgpackr's native extension is optional and it runs without), and none
# runs code at install time where the service runs.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/libs/contracts/dist libs/contracts/dist
COPY --from=build /app/libs/agent-sdk/dist libs/agent-sdk/dist
COPY --from=build /app/libs/client/dist libs/client/dist
COPY --from=build /app/apps/orchestrator/dist apps/orchestrator/dist
COPY --from=build /app/apps/demo-agents/dist apps/demo-agents/dist
# The dashboard at /ui: static files only (its packages are build-time dependencies).
COPY --from=build /app/apps/dashboard/dist apps/dashboard/dist
COPY --from=build /app/apps/cli/dist apps/cli/dist
COPY apps/cli/bin apps/cli/bin
COPY workflows workflows
COPY schemas schemas
USER node
EXPOSE 3000
CMD ["node", "apps/orchestrator/dist/main.js"]
