/**
 * Refreshes the committed workflow histories under test/histories/ by running each scenario on
 * the time-skipping test server: `npm run histories:record`. The replay test replays them all
 * against the current code, so a change that breaks running workflows fails `npm test`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { eventSignal } from '../workflows/machine-api';
import { createTestActivities } from '../test/helpers/test-activities';
import { timeSkippingEnvironment, workflowBundle } from '../test/helpers/temporal';
import { viewWhen } from '../test/helpers/wait';
import { DAY_MS, PONG_DELAY_MS, type TestEvent } from '../test/workflows/test-machine';

const historiesDir = join(__dirname, '..', 'test', 'histories');

async function main(): Promise<void> {
  const env = await timeSkippingEnvironment();
  const taskQueue = 'record-histories';
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(require.resolve('../test/workflows/index')),
    activities: createTestActivities().activities,
  });
  try {
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('testMachineWorkflow', {
        taskQueue,
        workflowId: 'history-test-machine',
        args: [{ input: {} }],
      });
      const send = async (event: TestEvent, state: string) => {
        await handle.signal(eventSignal, event);
        await viewWhen(handle, (v) => v.state === state && v.eventCount > 0);
      };
      await send({ type: 'start' }, 'waiting');
      await send({ type: 'ping' }, 'waiting');
      await env.sleep(PONG_DELAY_MS + 1_000);
      await viewWhen(handle, (v) => (v.context as { pongs: number }).pongs === 1);
      await send({ type: 'note', id: 'n1' }, 'waiting');
      await env.sleep(DAY_MS);
      await viewWhen(handle, (v) => v.state === 'expired');
      await send({ type: 'start' }, 'waiting');
      await send({ type: 'answer' }, 'answered');
      await handle.signal(eventSignal, { type: 'finish' });
      await handle.result();
      await save(handle, 'test-machine');
    });
  } finally {
    await env.teardown();
  }
}

async function save(handle: WorkflowHandle, name: string): Promise<void> {
  const file = join(historiesDir, `${name}.json`);
  writeFileSync(file, historyToJSON(await handle.fetchHistory()) + '\n');
  console.log(`recorded ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
