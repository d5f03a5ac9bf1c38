import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Router } from 'express';
import { stageOf, statusCardOf, type OnboardingContext, type OnboardingEvent } from '../../machines/onboarding';
import { sendUpdate, stateQuery, type MachineEvent, type MachineView } from '../../contracts/machine-api';
import { onboardingWorkflowId } from '../../contracts/ids';
import type { onboardingWorkflow } from '../../workflows/onboarding';
import type { ApiDeps } from '../app';
import { requireApiKey } from '../auth';
import { jsonBody } from '../json-body';
import { ApiError, parseRequest } from '../errors';
import { machineView } from '../machine-view';
import type { OnboardingView } from '../responses';
import { prerequisitesEvent, signupEvent, userEvent } from '../events';
import {
  phoneNumberParamsSchema,
  prerequisitesSchema,
  signupResultSchema,
  startOnboardingSchema,
  userEventSchema,
} from '../schemas';

/** The backend's routes: start and drive onboardings, read them. */
export function onboardingRoutes({ client, config }: ApiDeps): Router {
  const router = Router();
  router.use('/onboardings', requireApiKey(config.BACKEND_API_KEY), ...jsonBody('64kb'));

  router.post('/onboardings', async (req, res) => {
    const { phoneNumber, settings } = parseRequest(startOnboardingSchema, req.body, 'body');
    const workflowId = onboardingWorkflowId(phoneNumber);
    const existing = await describeIfRunning(client, workflowId);
    const handle = existing
      ? client.workflow.getHandle(workflowId)
      : await client.workflow.start<typeof onboardingWorkflow>('onboardingWorkflow', {
          workflowId,
          taskQueue: config.TEMPORAL_TASK_QUEUE,
          args: [{ input: { phoneNumber, ...(settings ? { settings } : {}) } }],
          // Two concurrent starts for one number end with one onboarding.
          workflowIdConflictPolicy: 'USE_EXISTING',
        });
    const view = (await handle.query(stateQuery)) as MachineView<OnboardingContext>;
    res.status(existing ? 200 : 201).json(presentOnboarding(workflowId, view));
  });

  router.get('/onboardings/:phoneNumber', async (req, res) => {
    const { phoneNumber } = parseRequest(phoneNumberParamsSchema, req.params, 'params');
    const workflowId = onboardingWorkflowId(phoneNumber);
    const view = await machineView<OnboardingContext>(client, workflowId);
    res.json(presentOnboarding(workflowId, view));
  });

  router.post('/onboardings/:phoneNumber/prerequisites', async (req, res) => {
    const { phoneNumber } = parseRequest(phoneNumberParamsSchema, req.params, 'params');
    const report = parseRequest(prerequisitesSchema, req.body, 'body');
    res.json(await send(client, phoneNumber, prerequisitesEvent(report, Date.now())));
  });

  router.post('/onboardings/:phoneNumber/signup', async (req, res) => {
    const { phoneNumber } = parseRequest(phoneNumberParamsSchema, req.params, 'params');
    const result = parseRequest(signupResultSchema, req.body, 'body');
    res.json(await send(client, phoneNumber, signupEvent(result, Date.now())));
  });

  router.post('/onboardings/:phoneNumber/events', async (req, res) => {
    const { phoneNumber } = parseRequest(phoneNumberParamsSchema, req.params, 'params');
    const event = parseRequest(userEventSchema, req.body, 'body');
    res.json(await send(client, phoneNumber, userEvent(event, Date.now())));
  });

  return router;
}

async function send(client: Client, phoneNumber: string, event: OnboardingEvent) {
  const workflowId = onboardingWorkflowId(phoneNumber);
  const handle = client.workflow.getHandle(workflowId);
  await assertRunning(client, workflowId);
  const view = (await handle.executeUpdate(sendUpdate, { args: [event as MachineEvent] })) as MachineView<OnboardingContext>;
  return presentOnboarding(workflowId, view);
}

async function describeIfRunning(client: Client, workflowId: string): Promise<boolean> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

async function assertRunning(client: Client, workflowId: string): Promise<void> {
  try {
    const { status } = await client.workflow.getHandle(workflowId).describe();
    if (status.name !== 'RUNNING') throw new ApiError(409, 'onboarding_closed', `the onboarding is ${status.name.toLowerCase()}`);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ApiError(404, 'not_found', `no onboarding ${workflowId}`);
    throw err;
  }
}

/** What the backend sees of an onboarding: never the sealed token. */
export function presentOnboarding(workflowId: string, view: MachineView<OnboardingContext>) {
  const c = view.context;
  return {
    id: workflowId,
    phoneNumber: c.phoneNumber,
    stage: stageOf(view),
    state: view.state,
    status: view.status,
    blocked: c.blocked ?? null,
    linking: {
      attempts: c.linkingAttempts,
      maxAttempts: c.settings.maxLinkingAttempts,
      method: c.linkingMethod,
      attemptTtlMs: c.settings.linkingAttemptTtlMs,
    },
    wabaId: c.wabaId ?? null,
    phoneNumberId: c.phoneNumberId ?? null,
    registration: c.registration,
    sync: { contacts: c.contactsSync, history: c.historySync, historyProgress: c.history },
    payment: c.payment,
    statusCard: statusCardOf(c),
    warnings: c.warnings,
    offboarding: c.offboarding ?? null,
    lifecycleEvents: c.lifecycleEvents ?? [],
    timeline: view.timeline,
  } satisfies OnboardingView;
}
