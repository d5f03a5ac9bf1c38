/**
 * Workflow Updates on the real dev server (the time-skipping server does not run Updates):
 * an event the current state cannot take is refused by the validator and writes nothing.
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { sendUpdate, stateQuery } from '../../contracts/machine-api';
import { createTestActivities } from '../helpers/test-activities';
import { devServerEnvironment, workflowBundle, testDataConverter } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const taskQueue = 'interpreter-dev-server';

beforeAll(async () => {
  env = await devServerEnvironment();
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    dataConverter: testDataConverter,
    workflowBundle: await workflowBundle(require.resolve('../workflows/index')),
    activities: createTestActivities().activities,
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

async function historyLength(handle: WorkflowHandle): Promise<number> {
  return (await handle.fetchHistory()).events?.length ?? 0;
}

test('an Update for an event the state cannot take is refused with the reason and changes nothing', async () => {
  const handle = await env.client.workflow.start('testMachineWorkflow', {
    taskQueue,
    workflowId: 'interpreter-update-refused',
    args: [{ input: {} }],
  });
  await handle.query(stateQuery);
  const before = await historyLength(handle);

  const refused = handle.executeUpdate(sendUpdate, { args: [{ type: 'answer' }] });
  await expect(refused).rejects.toThrow(WorkflowUpdateFailedError);
  await expect(refused).rejects.toMatchObject({ cause: { message: 'state idle cannot take answer' } });
  const forged = handle.executeUpdate(sendUpdate, { args: [{ type: 'xstate.done.actor.job', output: 'x' }] });
  await expect(forged).rejects.toMatchObject({ cause: { message: expect.stringContaining('xstate.') } });

  expect((await handle.query(stateQuery)).state).toBe('idle');
  expect(await historyLength(handle)).toBe(before);

  const accepted = await handle.executeUpdate(sendUpdate, { args: [{ type: 'start' }] });
  expect(accepted.state).toBe('waiting');
  expect(accepted.timeline.at(-1)).toMatchObject({ from: 'idle', to: 'waiting', event: 'start' });
  expect(await historyLength(handle)).toBeGreaterThan(before);
});

test('a repeated Update with the same dedupe key is answered without a second transition', async () => {
  const handle = await env.client.workflow.start('testMachineWorkflow', {
    taskQueue,
    workflowId: 'interpreter-update-dedupe',
    args: [{ input: {} }],
  });
  await handle.executeUpdate(sendUpdate, { args: [{ type: 'start' }] });
  const first = await handle.executeUpdate(sendUpdate, { args: [{ type: 'note', id: 'same' }] });
  const again = await handle.executeUpdate(sendUpdate, { args: [{ type: 'note', id: 'same' }] });
  expect((first.context as { notes: number }).notes).toBe(1);
  expect((again.context as { notes: number }).notes).toBe(1);
  expect(again.duplicateCount).toBe(1);
});
