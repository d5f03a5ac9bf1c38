import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { senderWorkflowId } from '../contracts/ids';
import type { NumberRegistryActivities } from '../contracts/number-registry';
import { wakeSignal } from '../contracts/sender';
import type { MessageStore } from '../store/message-store';

/**
 * The onboarding's `recordNumber`: writes the number registry, marks the deliveries quarantined
 * because the number was not registered yet as due for a replay, and when the number can send again
 * with sends waiting, wakes its sender so that they go out (in order, at the pace).
 */
export function createNumberRegistryActivities({
  config,
  store,
  client,
}: {
  config: Config;
  store: MessageStore;
  client: Client;
}) {
  return {
    async recordNumber({ mirroredAt, ...entry }) {
      const { released } = await store.numbers.record({ ...entry, updatedAt: mirroredAt });
      // Meta may deliver the number's first changes before this: quarantined, the API's dispatcher replays them now.
      await store.markReplayDue({ phoneNumberId: entry.phoneNumberId });
      if (!released || (await store.queue.depth(entry.phoneNumberId)) === 0) return;
      await client.workflow.signalWithStart('senderWorkflow', {
        workflowId: senderWorkflowId(entry.phoneNumberId),
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [{ phoneNumberId: entry.phoneNumberId }],
        signal: wakeSignal,
        signalArgs: [],
      });
    },
  } satisfies NumberRegistryActivities;
}
