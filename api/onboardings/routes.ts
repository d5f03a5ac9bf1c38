import { Router } from 'express';
import { onboardingWorkflowId } from '../../contracts/ids';
import type { OnboardingContext } from '../../machines/onboarding';
import type { ApiDeps } from '../deps';
import { requireApiKey } from '../http/auth';
import { idempotent } from '../http/idempotency';
import { parseRequest } from '../http/errors';
import { jsonBody } from '../http/json-body';
import { machineView } from '../machine-view';
import { prerequisitesEvent, signupEvent, userEvent } from './events';
import { presentOnboarding } from './presenter';
import {
  phoneNumberParamsSchema,
  prerequisitesSchema,
  signupResultSchema,
  startOnboardingSchema,
  userEventSchema,
} from './schemas';
import { sendToOnboarding, startOnboarding } from './workflow';

/** The backend's routes: start and drive onboardings, read them. */
export function onboardingRoutes({ client, config, log, store }: ApiDeps): Router {
  const router = Router();
  router.use(
    '/onboardings',
    requireApiKey(config.BACKEND_API_KEY),
    ...jsonBody('64kb'),
    idempotent(store, log, () => 'backend'),
  );

  router.post('/onboardings', async (req, res) => {
    const { phoneNumber, settings } = parseRequest(startOnboardingSchema, req.body, 'body');
    const input = { phoneNumber, ...(settings ? { settings } : {}) };
    const { workflowId, created, view } = await startOnboarding(client, config.TEMPORAL_TASK_QUEUE, input);
    res.status(created ? 201 : 200).json(presentOnboarding(workflowId, view));
  });

  router.get('/onboardings/:phoneNumber', async (req, res) => {
    const { phoneNumber } = parseRequest(phoneNumberParamsSchema, req.params, 'params');
    const workflowId = onboardingWorkflowId(phoneNumber);
    const view = await machineView<OnboardingContext>(client, workflowId);
    const { phoneNumberId } = view.context;
    const received = phoneNumberId
      ? {
          contactsReceived: await store.contactSyncSummary(phoneNumberId),
          historyReceived: await store.historySummary(phoneNumberId),
        }
      : undefined;
    res.json(presentOnboarding(workflowId, view, received));
  });

  router.post('/onboardings/:phoneNumber/prerequisites', async (req, res) => {
    const { phoneNumber } = parseRequest(phoneNumberParamsSchema, req.params, 'params');
    const report = parseRequest(prerequisitesSchema, req.body, 'body');
    const { workflowId, view } = await sendToOnboarding(client, phoneNumber, prerequisitesEvent(report, Date.now()));
    res.json(presentOnboarding(workflowId, view));
  });

  router.post('/onboardings/:phoneNumber/signup', async (req, res) => {
    const { phoneNumber } = parseRequest(phoneNumberParamsSchema, req.params, 'params');
    const result = parseRequest(signupResultSchema, req.body, 'body');
    const { workflowId, view } = await sendToOnboarding(client, phoneNumber, signupEvent(result, Date.now()));
    res.json(presentOnboarding(workflowId, view));
  });

  router.post('/onboardings/:phoneNumber/events', async (req, res) => {
    const { phoneNumber } = parseRequest(phoneNumberParamsSchema, req.params, 'params');
    const event = parseRequest(userEventSchema, req.body, 'body');
    const { workflowId, view } = await sendToOnboarding(client, phoneNumber, userEvent(event, Date.now()));
    res.json(presentOnboarding(workflowId, view));
  });

  return router;
}
