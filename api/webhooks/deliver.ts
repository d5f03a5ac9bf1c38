/**
 * The Temporal side of a webhook: signals every routed event and resolves once Temporal accepted
 * all of them. Returns what happened (the answer Meta gets); never changes what it was handed.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { META_ID } from '../../contracts/ids';
import { eventSignal, type MachineEvent } from '../../contracts/machine-api';
import type { Routed } from './route-changes';
import type { WebhookAnswer } from './schemas';

export async function deliverWebhook(client: Client, taskQueue: string, routed: Routed): Promise<WebhookAnswer> {
  const deliveries = [...routed.deliveries];
  const noOnboarding: string[] = [];
  for (const { wabaId, event } of routed.byWaba) {
    const ids = await runningOnboardingsOfWaba(client, wabaId);
    if (ids.length === 0) noOnboarding.push(`account_update:no_onboarding_for_waba:${wabaId}`);
    for (const workflowId of ids) deliveries.push({ workflowId, event });
  }
  const unrouted = [...routed.unrouted, ...noOnboarding];
  const [onboardingResults] = await Promise.all([
    Promise.all(
      deliveries.map(async ({ workflowId, event }) => {
        try {
          await client.workflow.getHandle(workflowId).signal(eventSignal, event as MachineEvent);
          return 'delivered';
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return `no_workflow:${workflowId}`;
          throw err;
        }
      }),
    ),
    // A conversation's events in the order Meta listed them; conversations side by side.
    Promise.all(
      [...groupBy(routed.conversations, (d) => d.workflowId)].map(async ([workflowId, group]) => {
        for (const { conversation, event } of group) {
          await client.workflow.signalWithStart('conversationWorkflow', {
            workflowId,
            taskQueue,
            args: [{ input: conversation }],
            signal: eventSignal,
            signalArgs: [event as MachineEvent],
          });
        }
      }),
    ),
  ]);
  const notFound = onboardingResults.filter((r) => r !== 'delivered');
  // Template statuses and the app's contacts are kept by the store before this runs
  // (api/webhooks/routes.ts); a profile name rides on its message and is not counted apart.
  const stored = routed.templates.length + routed.contacts.filter((c) => c.action !== 'profile').length;
  return {
    received: deliveries.length + routed.conversations.length + stored + unrouted.length,
    delivered: onboardingResults.length - notFound.length + routed.conversations.length + stored,
    unrouted: [...unrouted, ...notFound],
  };
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

/** The live onboardings of a WABA, from Temporal visibility (search attribute WabaId). */
async function runningOnboardingsOfWaba(client: Client, wabaId: string): Promise<string[]> {
  if (!META_ID.test(wabaId)) return [];
  const ids: string[] = [];
  for await (const execution of client.workflow.list({ query: `WabaId = '${wabaId}' AND ExecutionStatus = 'Running'` })) {
    ids.push(execution.workflowId);
  }
  return ids;
}
