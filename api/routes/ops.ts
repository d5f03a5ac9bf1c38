import type { Client } from '@temporalio/client';
import { Router } from 'express';
import { z } from 'zod';
import {
  onboardingMachine,
  stageOf,
  statusCardOf,
  type OnboardingContext,
  type OnboardingEvent,
  type Stage,
} from '../../machines/onboarding';
import { BLOCKED_REASONS, remedyFor, type BlockedReason } from '../../machines/onboarding';
import { onboardingWorkflowId } from '../../contracts/ids';
import { sendUpdate, type MachineEvent, type MachineView } from '../../contracts/machine-api';
import type { ApiDeps } from '../app';
import { requireOpsToken } from '../auth';
import { jsonBody } from '../json-body';
import { ApiError, parseRequest } from '../errors';
import { machineView } from '../machine-view';
import { machineDiagram } from '../ops/diagram';
import { isStuck, stageBudgets, stuckClause, syncDeadlineNear, type StageBudgets } from '../ops/stuck';
import { phoneNumberParamsSchema } from '../schemas';

const STAGES = [
  'prerequisites',
  'signup',
  'linking',
  'registration',
  'sync',
  'payment',
  'active',
  'blocked',
  'cancelled',
  'offboarded',
] as const;

export const listQuerySchema = z
  .object({
    stage: z.enum(STAGES).optional(),
    stuck: z.enum(['true', 'false']).optional(),
    blockedReason: z
      .string()
      .regex(/^[a-z0-9_]{1,64}$/, 'must be a blocked reason code like qr_not_scanned')
      .optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    pageToken: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,2000}$/, 'must be a nextPageToken')
      .optional(),
  })
  .strict();

export const actionSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('retry') }).strict(),
  z.object({ action: z.literal('refreshLinking') }).strict(),
  z.object({ action: z.literal('refreshStatusCard') }).strict(),
  z.object({ action: z.literal('recheckPayment') }).strict(),
  z.object({ action: z.literal('cancel') }).strict(),
  z.object({ action: z.literal('reset'), to: z.enum(['prerequisites', 'signup', 'linking', 'registration']) }).strict(),
]);

/** Operators: find stuck onboardings from Temporal visibility, inspect one, repair it. */
export function opsRoutes({ client, config }: ApiDeps): Router {
  const router = Router();
  const budgets = stageBudgets(config.OPS_STAGE_BUDGETS);
  router.use('/ops/onboardings', requireOpsToken(config.OPS_TOKENS));

  router.get('/ops/onboardings', async (req, res) => {
    const q = parseRequest(listQuerySchema, req.query, 'query');
    const now = Date.now();
    const clauses = ["WorkflowType = 'onboardingWorkflow'", "ExecutionStatus = 'Running'"];
    if (q.stage) clauses.push(`OnboardingStage = '${q.stage}'`);
    if (q.blockedReason) clauses.push(`OnboardingBlockedReason = '${q.blockedReason}'`);
    if (q.stuck) clauses.push(stuckClause(q.stuck === 'true', now, budgets));
    const page = await client.workflowService
      .listWorkflowExecutions({
        namespace: config.TEMPORAL_NAMESPACE,
        query: clauses.join(' AND '),
        pageSize: q.limit,
        ...(q.pageToken ? { nextPageToken: Buffer.from(q.pageToken, 'base64url') } : {}),
      })
      .catch((err: { code?: unknown }) => {
        // A token Temporal did not hand out: INVALID_ARGUMENT, or UNKNOWN from the dev server's SQLite.
        if (q.pageToken && (err.code === 3 || err.code === 2))
          throw new ApiError(400, 'invalid_request', 'query.pageToken: not a nextPageToken of this list', 'query.pageToken');
        throw err;
      });
    const onboardings = (page.executions ?? []).map((e) =>
      row(e.execution?.workflowId ?? '', attributesOf(e.searchAttributes?.indexedFields), now, budgets),
    );
    const next = page.nextPageToken?.length ? Buffer.from(page.nextPageToken).toString('base64url') : undefined;
    res.json({ onboardings, ...(next ? { nextPageToken: next } : {}) });
  });

  router.get('/ops/onboardings/:phoneNumber', async (req, res) => {
    const { phoneNumber } = parseRequest(phoneNumberParamsSchema, req.params, 'params');
    res.json(await inspect(client, onboardingWorkflowId(phoneNumber), budgets));
  });

  router.post('/ops/onboardings/:phoneNumber/actions', ...jsonBody('8kb'), async (req, res) => {
    const { phoneNumber } = parseRequest(phoneNumberParamsSchema, req.params, 'params');
    const action = parseRequest(actionSchema, req.body, 'body');
    const workflowId = onboardingWorkflowId(phoneNumber);
    const by = `ops:${String(res.locals.operator)}`;
    const view = (await client.workflow
      .getHandle(workflowId)
      .executeUpdate(sendUpdate, { args: [repairEvent(action, by) as MachineEvent] })) as MachineView<OnboardingContext>;
    res.json(await inspect(client, workflowId, budgets, view));
  });

  return router;
}

function repairEvent(action: z.infer<typeof actionSchema>, by: string): OnboardingEvent {
  switch (action.action) {
    case 'retry':
      return { type: 'retry', by };
    case 'refreshLinking':
      return { type: 'linking.refresh', by };
    case 'refreshStatusCard':
      return { type: 'statusCard.refresh', by };
    case 'recheckPayment':
      return { type: 'payment.added', at: Date.now(), by };
    case 'cancel':
      return { type: 'cancel', by };
    case 'reset':
      return { type: 'reset', to: action.to, by };
  }
}

interface OnboardingAttributes {
  phoneNumber?: string;
  wabaId?: string;
  stage?: Stage;
  enteredAt?: Date;
  blockedReason?: string;
  linkingAttempts?: number;
  syncDeadline?: Date;
}

/** Search attribute payloads as visibility returns them (JSON-encoded). */
function attributesOf(fields: Record<string, { data?: Uint8Array | null }> | null | undefined): OnboardingAttributes {
  const read = (name: string): unknown => {
    const data = fields?.[name]?.data;
    return data ? JSON.parse(Buffer.from(data).toString('utf8')) : undefined;
  };
  const enteredAt = read('OnboardingStageEnteredAt');
  const syncDeadline = read('OnboardingSyncDeadline');
  return {
    phoneNumber: read('OnboardingPhoneNumber') as string | undefined,
    wabaId: read('WabaId') as string | undefined,
    stage: read('OnboardingStage') as Stage | undefined,
    enteredAt: typeof enteredAt === 'string' ? new Date(enteredAt) : undefined,
    blockedReason: read('OnboardingBlockedReason') as string | undefined,
    linkingAttempts: read('LinkingAttempts') as number | undefined,
    syncDeadline: typeof syncDeadline === 'string' ? new Date(syncDeadline) : undefined,
  };
}

function row(id: string, a: OnboardingAttributes, now: number, budgets: StageBudgets) {
  const stage = a.stage ?? 'prerequisites';
  return {
    id,
    phoneNumber: a.phoneNumber ?? null,
    wabaId: a.wabaId ?? null,
    stage,
    since: a.enteredAt?.toISOString() ?? null,
    ageMs: a.enteredAt ? now - a.enteredAt.getTime() : null,
    budgetMs: budgets[stage] ?? null,
    stuck: isStuck(stage, a.enteredAt, now, budgets, a.syncDeadline),
    blockedReason: a.blockedReason ?? null,
    remedy: a.blockedReason && a.blockedReason in BLOCKED_REASONS ? remedyFor(a.blockedReason as BlockedReason) : null,
    linkingAttempts: a.linkingAttempts ?? 0,
    syncDeadline: a.syncDeadline?.toISOString() ?? null,
    syncDeadlineNear: syncDeadlineNear(stage, a.syncDeadline, now),
  };
}

/** Everything an operator needs about one onboarding, without reading its event history. */
async function inspect(client: Client, workflowId: string, budgets: StageBudgets, known?: MachineView<OnboardingContext>) {
  const view = known ?? (await machineView<OnboardingContext>(client, workflowId));
  const description = await client.workflow.getHandle(workflowId).describe();
  const attributes = attributesOf(description.raw.workflowExecutionInfo?.searchAttributes?.indexedFields as never);
  const now = Date.now();
  const { sealedToken: _sealed, ...context } = view.context;
  const stage = stageOf(view);
  return {
    ...row(workflowId, attributes, now, budgets),
    stage,
    state: view.state,
    status: view.status,
    stateValue: view.value,
    blocked: view.context.blocked ?? null,
    statusCard: statusCardOf(view.context),
    context: { ...context, ...(_sealed ? { sealedToken: '[redacted]' } : {}) },
    timeline: view.timeline,
    pendingTimers: view.pendingTimers,
    activities: (description.raw.pendingActivities ?? []).map((a) => ({
      type: a.activityType?.name ?? 'unknown',
      attempt: a.attempt ?? 1,
      ...(a.lastFailure?.message ? { lastFailure: a.lastFailure.message } : {}),
    })),
    effectFailures: view.effectFailures,
    machine: machineDiagram(onboardingMachine),
  };
}

export type OpsOnboarding = Awaited<ReturnType<typeof inspect>>;
