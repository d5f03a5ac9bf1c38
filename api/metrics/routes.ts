import { Router } from 'express';
import { collectProcessMetrics, registry } from '../../observability/metrics';
import type { ApiDeps } from '../deps';
import { onboardingGauges } from './onboarding-gauges';

/**
 * `GET /metrics` (no auth, as Prometheus scrapes): the process's registry and the onboarding gauges
 * read from Temporal visibility. Each request's own metrics are counted by api/http/request-context.ts.
 */
export function metricsRoutes({ client, config, log }: ApiDeps): Router {
  const router = Router();
  collectProcessMetrics();
  const onboardings = onboardingGauges(client, config.METRICS_VISIBILITY_CACHE_MS, log);

  router.get('/metrics', async (_req, res) => {
    await onboardings.refresh();
    const text = [await registry.metrics(), await onboardings.registry.metrics()].join('\n');
    res.set('content-type', registry.contentType).send(text);
  });

  return router;
}
