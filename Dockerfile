FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# --ignore-scripts: the postinstall fetches the local Temporal binaries, which production does not run.
RUN npm ci --omit=dev --ignore-scripts
COPY . .
USER node
CMD ["npm", "run", "api"]
