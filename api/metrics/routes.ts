import { Router } from 'express';
import { collectProcessMetrics, registry } from '../../observability/metrics';
import type { ApiDeps } from '../deps';
import { stageBudgets } from '../ops/stuck';
import { inboxGauges } from './inbox-gauges';
import { onboardingGauges, stageBudgetGauge } from './onboarding-gauges';

/**
 * `GET /metrics` (no auth, as Prometheus scrapes): the process's registry, the onboarding gauges
 * read from Temporal visibility and the webhook inbox's depth read from the store. Each request's own metrics are counted by api/http/request-context.ts.
 */
export function metricsRoutes({ client, config, log, store }: ApiDeps): Router {
  const router = Router();
  collectProcessMetrics();
  const onboardings = onboardingGauges(client, config.METRICS_VISIBILITY_CACHE_MS, log);
  const budgets = stageBudgetGauge(stageBudgets(config.OPS_STAGE_BUDGETS));
  const inbox = inboxGauges(store, log);

  router.get('/metrics', async (_req, res) => {
    await Promise.all([onboardings.refresh(), inbox.refresh()]);
    const text = [
      await registry.metrics(),
      await onboardings.registry.metrics(),
      await budgets.metrics(),
      await inbox.registry.metrics(),
    ].join('\n');
    res.set('content-type', registry.contentType).send(text);
  });

  return router;
}
