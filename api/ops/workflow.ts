/**
 * The ops' Temporal side: running onboardings from visibility (search attributes), one onboarding's
 * description, a repair applied by Workflow Update.
 */
import type { Client } from '@temporalio/client';
import { decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow';
import type { OnboardingContext, OnboardingEvent, Stage } from '../../machines/onboarding';
import { sendUpdate, type MachineEvent, type MachineView } from '../../contracts/machine-api';
import { ApiError } from '../http/errors';
import { machineView } from '../machine-view';
import { stuckClause, type StageBudgets } from './stuck';

export type OnboardingMachineView = MachineView<OnboardingContext>;

/** An onboarding's search attributes, decoded. */
export interface OnboardingAttributes {
  phoneNumber?: string;
  wabaId?: string;
  stage?: Stage;
  enteredAt?: Date;
  blockedReason?: string;
  linkingAttempts?: number;
  syncDeadline?: Date;
}

export interface ListFilter {
  stage?: Stage;
  blockedReason?: string;
  stuck?: boolean;
  limit: number;
  /** A nextPageToken this list handed out (base64url). */
  pageToken?: string;
}

/** One page of running onboardings, newest first; a page token Temporal did not hand out is a 400. */
export async function listOnboardings(
  client: Client,
  namespace: string,
  filter: ListFilter,
  now: number,
  budgets: StageBudgets,
): Promise<{ onboardings: { workflowId: string; attributes: OnboardingAttributes }[]; nextPageToken?: string }> {
  const clauses = ["WorkflowType = 'onboardingWorkflow'", "ExecutionStatus = 'Running'"];
  if (filter.stage) clauses.push(`OnboardingStage = '${filter.stage}'`);
  if (filter.blockedReason) clauses.push(`OnboardingBlockedReason = '${filter.blockedReason}'`);
  if (filter.stuck !== undefined) clauses.push(stuckClause(filter.stuck, now, budgets));
  const page = await client.workflowService
    .listWorkflowExecutions({
      namespace,
      query: clauses.join(' AND '),
      pageSize: filter.limit,
      ...(filter.pageToken ? { nextPageToken: Buffer.from(filter.pageToken, 'base64url') } : {}),
    })
    .catch((err: { code?: unknown }) => {
      // A token Temporal did not hand out: INVALID_ARGUMENT, or UNKNOWN from the dev server's SQLite.
      if (filter.pageToken && (err.code === 3 || err.code === 2))
        throw new ApiError(400, 'invalid_request', 'query.pageToken: not a nextPageToken of this list', 'query.pageToken');
      throw err;
    });
  const onboardings = (page.executions ?? []).map((e) => ({
    workflowId: e.execution?.workflowId ?? '',
    attributes: attributesOf(e.searchAttributes?.indexedFields),
  }));
  const next = page.nextPageToken?.length ? Buffer.from(page.nextPageToken).toString('base64url') : undefined;
  return { onboardings, ...(next ? { nextPageToken: next } : {}) };
}

export interface Inspection {
  view: OnboardingMachineView;
  attributes: OnboardingAttributes;
  activities: { type: string; attempt: number; lastFailure?: string }[];
}

/** Everything Temporal knows of one onboarding, without reading its event history (`known`: a view already in hand). */
export async function inspectOnboarding(client: Client, workflowId: string, known?: OnboardingMachineView): Promise<Inspection> {
  const view = known ?? (await machineView<OnboardingContext>(client, workflowId));
  const description = await client.workflow.getHandle(workflowId).describe();
  return {
    view,
    attributes: attributesOf(description.raw.workflowExecutionInfo?.searchAttributes?.indexedFields as never),
    activities: await Promise.all(
      (description.raw.pendingActivities ?? []).map(async (a) => {
        // Failures travel encrypted (security/failure-converter.ts): decoded with the client's converter.
        const lastFailure = (await decodeOptionalFailureToOptionalError(client.options.loadedDataConverter, a.lastFailure))
          ?.message;
        return { type: a.activityType?.name ?? 'unknown', attempt: a.attempt ?? 1, ...(lastFailure ? { lastFailure } : {}) };
      }),
    ),
  };
}

/** Applies an operator's repair by Workflow Update; resolves with the view after it. */
export async function repairOnboarding(
  client: Client,
  workflowId: string,
  event: OnboardingEvent,
): Promise<OnboardingMachineView> {
  return (await client.workflow
    .getHandle(workflowId)
    .executeUpdate(sendUpdate, { args: [event as MachineEvent] })) as OnboardingMachineView;
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
