import { Router } from 'express';
import { onboardingWorkflowId } from '../../contracts/ids';
import type { ApiDeps } from '../deps';
import { requireOpsToken } from '../http/auth';
import { idempotent } from '../http/idempotency';
import { parseRequest } from '../http/errors';
import { jsonBody } from '../http/json-body';
import { phoneNumberParamsSchema } from '../onboardings/schemas';
import { repairEvent } from './events';
import { presentInspection, presentRow } from './presenter';
import {
  actionSchema,
  listQuerySchema,
  parkedQuerySchema,
  type OpsList,
  type OpsOverviewView,
  type OpsWebhooks,
  type ParkedPage,
} from './schemas';
import { opsOverview } from './overview';
import { stageBudgets } from './stuck';
import { inspectOnboarding, listOnboardings, repairOnboarding } from './workflow';

/** Operators: find stuck onboardings from Temporal visibility, inspect one, repair it. */
export function opsRoutes({ client, config, log, store }: ApiDeps): Router {
  const router = Router();
  const budgets = stageBudgets(config.OPS_STAGE_BUDGETS);
  const overview = opsOverview(client, budgets, config.METRICS_VISIBILITY_CACHE_MS);
  router.use(['/ops/onboardings', '/ops/overview', '/ops/parked', '/ops/webhooks'], requireOpsToken(config.OPS_TOKENS));

  router.get('/ops/overview', async (_req, res) => {
    res.json((await overview()) satisfies OpsOverviewView);
  });

  router.get('/ops/onboardings', async (req, res) => {
    const { stuck, ...q } = parseRequest(listQuerySchema, req.query, 'query');
    const now = Date.now();
    const filter = { ...q, ...(stuck ? { stuck: stuck === 'true' } : {}) };
    const page = await listOnboardings(client, config.TEMPORAL_NAMESPACE, filter, now, budgets);
    const onboardings = page.onboardings.map(({ workflowId, attributes }) => presentRow(workflowId, attributes, now, budgets));
    res.json({ onboardings, ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) } satisfies OpsList);
  });

  // Conversation effects set aside so that the events behind them went on (activities/parking.ts).
  router.get('/ops/parked', async (req, res) => {
    const query = parseRequest(parkedQuerySchema, req.query, 'query');
    res.json((await store.listParkedEffects(query)) satisfies ParkedPage);
  });

  // What of Meta's webhooks waits or was set aside: the inbox and its dispatch lag, the quarantine, parked effects.
  router.get('/ops/webhooks', async (_req, res) => {
    const [inbox, quarantine, parked] = await Promise.all([
      store.inboxDepth(),
      store.countQuarantine(),
      store.countParkedEffects(),
    ]);
    res.json({ inbox, quarantine, parked: { total: parked } } satisfies OpsWebhooks);
  });

  router.get('/ops/onboardings/:phoneNumber', async (req, res) => {
    const { phoneNumber } = parseRequest(phoneNumberParamsSchema, req.params, 'params');
    const workflowId = onboardingWorkflowId(phoneNumber);
    const inspection = await inspectOnboarding(client, workflowId);
    res.json(presentInspection(workflowId, inspection, Date.now(), budgets));
  });

  router.post(
    '/ops/onboardings/:phoneNumber/actions',
    ...jsonBody('8kb'),
    idempotent(store, log, (res) => `ops:${String(res.locals.operator)}`),
    async (req, res) => {
      const { phoneNumber } = parseRequest(phoneNumberParamsSchema, req.params, 'params');
      const action = parseRequest(actionSchema, req.body, 'body');
      const workflowId = onboardingWorkflowId(phoneNumber);
      const view = await repairOnboarding(
        client,
        workflowId,
        repairEvent(action, `ops:${String(res.locals.operator)}`, Date.now()),
      );
      const inspection = await inspectOnboarding(client, workflowId, view);
      res.json(presentInspection(workflowId, inspection, Date.now(), budgets));
    },
  );

  return router;
}
