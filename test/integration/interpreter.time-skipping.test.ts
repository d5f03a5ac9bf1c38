/**
 * The durable interpreter on the real time-skipping test server: timers, cancellation,
 * invocations and continue-as-new. Signals do not skip time, so each scenario is
 * start → signal → query (until processed) → env.sleep → assert.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { eventSignal, stateQuery } from '../../contracts/machine-api';
import { createTestActivities } from '../helpers/test-activities';
import { timeSkippingEnvironment, workflowBundle, testDataConverter } from '../helpers/temporal';
import { viewWhen, eventually } from '../helpers/wait';
import { DAY_MS, PONG_DELAY_MS, type TestEvent, type TestInput } from '../workflows/test-machine';

interface TestContext {
  notes: number;
  pongs: number;
  output?: string;
  error?: { message: string; type?: string; nonRetryable: boolean; details?: unknown };
}

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const taskQueue = 'interpreter-time-skipping';
const effects = createTestActivities();

beforeAll(async () => {
  env = await timeSkippingEnvironment();
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    dataConverter: testDataConverter,
    workflowBundle: await workflowBundle(require.resolve('../workflows/index')),
    activities: effects.activities,
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

let seq = 0;
async function start(input: TestInput = {}): Promise<WorkflowHandle> {
  return env.client.workflow.start('testMachineWorkflow', {
    taskQueue,
    workflowId: `interpreter-ts-${++seq}`,
    args: [{ input }],
  });
}

const send = (handle: WorkflowHandle, event: TestEvent) => handle.signal(eventSignal, event);

test('a 24 h delay fires as a durable timer without waiting 24 h', async () => {
  const handle = await start();
  await send(handle, { type: 'start' });
  const waiting = await viewWhen(handle, (v) => v.state === 'waiting');
  expect(waiting.pendingTimers).toHaveLength(1);
  expect(Date.parse(waiting.pendingTimers[0]!.dueAt) - Date.parse(waiting.timeline.at(-1)!.at)).toBe(DAY_MS);

  await env.sleep(DAY_MS - 60_000);
  expect((await handle.query(stateQuery)).state).toBe('waiting');

  await env.sleep(120_000);
  const expired = await viewWhen(handle, (v) => v.state === 'expired');
  expect(expired.pendingTimers).toHaveLength(0);
  expect(expired.timeline.map((t) => `${t.from}->${t.to}:${t.event}`)).toEqual([
    'idle->waiting:start',
    'waiting->expired:xstate.after.waitLimit.test.waiting',
  ]);
  // The named entry actions ran as activities, in order.
  await eventually(
    () => effects.recorded.join(','),
    (r) => r.includes('expired'),
  );
});

test('a delay cancelled by leaving the state, and a cancelled delayed raise, never fire', async () => {
  const before = effects.recorded.filter((n) => n === 'expired').length;
  const handle = await start();
  await send(handle, { type: 'start' });
  await send(handle, { type: 'ping' });
  await viewWhen(handle, (v) => v.pendingTimers.length === 2);
  await send(handle, { type: 'unping' });
  await viewWhen(handle, (v) => v.pendingTimers.map((t) => t.id).join() === 'xstate.after.waitLimit.test.waiting');
  await send(handle, { type: 'answer' });
  const answered = await viewWhen(handle, (v) => v.state === 'answered');
  expect(answered.pendingTimers).toEqual([]);

  await env.sleep(2 * DAY_MS);
  const later = await handle.query(stateQuery);
  expect(later.state).toBe('answered');
  expect((later.context as TestContext).pongs).toBe(0);
  expect(effects.recorded.filter((n) => n === 'expired').length).toBe(before);
});

test('a delayed raise that is not cancelled fires once', async () => {
  const handle = await start();
  await send(handle, { type: 'start' });
  await send(handle, { type: 'ping' });
  await viewWhen(handle, (v) => v.pendingTimers.some((t) => t.id === 'pong'));
  await env.sleep(PONG_DELAY_MS + 1_000);
  const view = await viewWhen<TestContext>(handle, (v) => v.context.pongs === 1);
  expect(view.state).toBe('waiting');
  expect(view.pendingTimers.map((t) => t.id)).toEqual(['xstate.after.waitLimit.test.waiting']);
});

test('an invoked actor runs as an activity and its output comes back as the done event', async () => {
  const handle = await start();
  await send(handle, { type: 'work', mode: 'ok' });
  const view = await viewWhen<TestContext>(handle, (v) => v.state === 'worked');
  expect(view.context.output).toBe('done:ok');
  expect(view.runningInvocations).toEqual([]);
});

test('a failed invocation comes back as the error event with the failure type and details', async () => {
  const handle = await start();
  await send(handle, { type: 'work', mode: 'fail' });
  const view = await viewWhen<TestContext>(handle, (v) => v.state === 'workFailed');
  expect(view.context.error).toEqual({
    message: 'the work was refused',
    type: 'WorkError',
    nonRetryable: true,
    details: { code: 42 },
  });
});

test('an invocation stopped by a state exit is cancelled', async () => {
  const handle = await start();
  await send(handle, { type: 'work', mode: 'slow' });
  const working = await viewWhen(handle, (v) => v.runningInvocations.length === 1);
  expect(working.runningInvocations[0]).toMatchObject({ id: 'job', src: 'doWork' });
  await eventually(
    () => effects.work.filter((w) => w === 'started:slow').length,
    (n) => n === 1,
  );

  await send(handle, { type: 'abort' });
  const idle = await viewWhen(handle, (v) => v.state === 'idle');
  expect(idle.runningInvocations).toEqual([]);
  await eventually(() => effects.work.includes('cancelled:slow'), Boolean);
  // The late cancellation does not feed an error event back into the machine.
  await env.sleep(10_000);
  expect((await handle.query(stateQuery)).state).toBe('idle');
});

test('continue-as-new keeps state, context, dedupe keys and a pending timer at its original due time', async () => {
  const handle = await start({ continueAsNewAfterEvents: 3 });
  const firstRunId = (await handle.describe()).runId;
  await send(handle, { type: 'start' });
  const waiting = await viewWhen(handle, (v) => v.state === 'waiting');
  const dueAt = waiting.pendingTimers[0]!.dueAt;
  await send(handle, { type: 'note', id: 'n1' });
  await send(handle, { type: 'note', id: 'n2' });

  const continued = await viewWhen<TestContext>(handle, (v) => v.generation === 1);
  expect((await handle.describe()).runId).not.toBe(firstRunId);
  expect(continued.state).toBe('waiting');
  expect(continued.context.notes).toBe(2);
  expect(continued.eventCount).toBe(3);
  expect(continued.pendingTimers).toEqual([
    { id: 'xstate.after.waitLimit.test.waiting', event: 'xstate.after.waitLimit.test.waiting', dueAt },
  ]);
  expect(continued.timeline.map((t) => t.to)).toEqual(['waiting']);

  // A redelivered event from before the boundary is still recognised.
  await send(handle, { type: 'note', id: 'n1' });
  await send(handle, { type: 'note', id: 'n3' });
  const deduped = await viewWhen<TestContext>(handle, (v) => v.eventCount === 4);
  expect(deduped.context.notes).toBe(3);
  expect(deduped.duplicateCount).toBe(1);

  // The timer fires at the due time set before the boundary, not 24 h after it.
  const remaining = Date.parse(dueAt) - (await env.currentTimeMs());
  await env.sleep(Math.max(0, remaining - 60_000));
  expect((await handle.query(stateQuery)).state).toBe('waiting');
  await env.sleep(120_000);
  await viewWhen(handle, (v) => v.state === 'expired');

  await send(handle, { type: 'start' });
  await viewWhen(handle, (v) => v.state === 'waiting');
  await send(handle, { type: 'answer' });
  await send(handle, { type: 'finish' });
  expect(await handle.result()).toMatchObject({ value: 'finished', output: { notes: 3, pongs: 0 } });
});

test('events the interpreter owns cannot be forged by a signal', async () => {
  const handle = await start();
  await send(handle, { type: 'work', mode: 'slow' });
  await viewWhen(handle, (v) => v.state === 'working');
  await handle.signal(eventSignal, { type: 'xstate.done.actor.job', output: 'forged' });
  await send(handle, { type: 'abort' });
  const view = await viewWhen<TestContext>(handle, (v) => v.state === 'idle');
  expect(view.context.output).toBeUndefined();
  expect(view.eventCount).toBe(2);
});
