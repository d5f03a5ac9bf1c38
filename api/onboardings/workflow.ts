/** The onboardings' Temporal side: start one, send it an event; each returns the machine's view. */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { OnboardingContext, OnboardingEvent, OnboardingInput } from '../../machines/onboarding';
import { onboardingWorkflowId } from '../../contracts/ids';
import { sendUpdate, stateQuery, type MachineEvent, type MachineView } from '../../contracts/machine-api';
import type { onboardingWorkflow } from '../../workflows/onboarding';
import { ApiError } from '../http/errors';

export type OnboardingMachineView = MachineView<OnboardingContext>;

/** Starts the number's onboarding unless one is running; `created` says which. */
export async function startOnboarding(
  client: Client,
  taskQueue: string,
  input: OnboardingInput,
): Promise<{ workflowId: string; created: boolean; view: OnboardingMachineView }> {
  const workflowId = onboardingWorkflowId(input.phoneNumber);
  const existing = await describeIfRunning(client, workflowId);
  const handle = existing
    ? client.workflow.getHandle(workflowId)
    : await client.workflow.start<typeof onboardingWorkflow>('onboardingWorkflow', {
        workflowId,
        taskQueue,
        args: [{ input }],
        // Two concurrent starts for one number end with one onboarding.
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
  const view = (await handle.query(stateQuery)) as OnboardingMachineView;
  return { workflowId, created: !existing, view };
}

/** Applies the event by Workflow Update: 404 without an onboarding, 409 once it is closed or refuses. */
export async function sendToOnboarding(
  client: Client,
  phoneNumber: string,
  event: OnboardingEvent,
): Promise<{ workflowId: string; view: OnboardingMachineView }> {
  const workflowId = onboardingWorkflowId(phoneNumber);
  const handle = client.workflow.getHandle(workflowId);
  await assertRunning(client, workflowId);
  const view = (await handle.executeUpdate(sendUpdate, { args: [event as MachineEvent] })) as OnboardingMachineView;
  return { workflowId, view };
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
