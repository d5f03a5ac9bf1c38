import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { MessageStore } from '../store/message-store';
import type { Config } from '../config';
import { errorHandler, notFound } from './errors';
import { codecRoutes } from './routes/codec';
import { healthRoutes } from './routes/health';
import { metricsRoutes } from './routes/metrics';
import { conversationRoutes } from './routes/conversations';
import { onboardingRoutes } from './routes/onboardings';
import { openApiRoutes } from './routes/openapi';
import { opsRoutes } from './routes/ops';
import { opsPageRoutes } from './routes/ops-page';
import { webhookRoutes } from './routes/webhooks';

export interface ApiDeps {
  config: Config;
  client: Client;
  log: Logger;
  store: MessageStore;
}

export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(metricsRoutes(deps)); // first: request ids, request metrics, GET /metrics
  app.use(healthRoutes(deps));
  app.use(onboardingRoutes(deps));
  app.use(conversationRoutes(deps));
  app.use(opsRoutes(deps));
  app.use(opsPageRoutes());
  app.use(codecRoutes(deps));
  app.use(webhookRoutes(deps));
  app.use(openApiRoutes());
  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}
