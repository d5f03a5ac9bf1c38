import express, { type Express } from 'express';
import { codecRoutes } from './codec/routes';
import { contactRoutes } from './contacts/routes';
import { conversationRoutes } from './conversations/routes';
import type { ApiDeps } from './deps';
import { healthRoutes } from './health/routes';
import { homeRoutes } from './home/routes';
import { errorHandler, notFound } from './http/errors';
import { methodNotAllowed } from './http/methods';
import { requestContext } from './http/request-context';
import { securityHeaders } from './http/security-headers';
import { metricsRoutes } from './metrics/routes';
import { onboardingRoutes } from './onboardings/routes';
import { numberWabaLookup } from './number-waba';
import { openApiRoutes } from './openapi/routes';
import { opsPageRoutes } from './ops/page';
import { quarantineRoutes } from './ops/quarantine';
import { opsRoutes } from './ops/routes';
import { templateChecks } from './templates/send-check';
import { templateRoutes } from './templates/routes';
import { webhookRoutes } from './webhooks/routes';

export function createApp(deps: ApiDeps): Express {
  const wabaOf = numberWabaLookup(deps.client);
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestContext(deps.log)); // first: request ids, request metrics
  app.use(securityHeaders);
  app.use(methodNotAllowed(app)); // before any route's authentication or body checks
  app.use(metricsRoutes(deps));
  app.use(healthRoutes(deps));
  app.use(onboardingRoutes(deps));
  app.use(conversationRoutes(deps, templateChecks(deps.store, wabaOf)));
  app.use(templateRoutes(deps, wabaOf));
  app.use(contactRoutes(deps));
  app.use(opsRoutes(deps));
  app.use(quarantineRoutes(deps));
  app.use(opsPageRoutes());
  app.use(codecRoutes(deps));
  app.use(webhookRoutes(deps));
  app.use(openApiRoutes());
  app.use(homeRoutes(deps));
  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}
