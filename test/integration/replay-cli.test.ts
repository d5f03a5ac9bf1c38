/**
 * `npm run replay` as an operator runs it, against a real dev server: a test-machine workflow run
 * to `waiting` replays cleanly against the code that ran it, diverges (exit 1, naming the event)
 * against the deliberately changed machine, and replays against the patched one; a run started
 * on the patched code takes the new machine and replays against that code too.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { eventSignal } from '../../contracts/machine-api';
import { createTestActivities } from '../helpers/test-activities';
import { devServerEnvironment, workflowBundle, testDataConverter } from '../helpers/temporal';
import { eventually, viewWhen } from '../helpers/wait';

const root = join(__dirname, '..', '..');
const { EventType } = temporal.api.enums.v1;

let env: TestWorkflowEnvironment;
const workers: { worker: Worker; running: Promise<void> }[] = [];

async function startWorker(taskQueue: string, workflowsModule: string) {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    dataConverter: testDataConverter,
    workflowBundle: await workflowBundle(require.resolve(workflowsModule)),
    activities: createTestActivities().activities,
  });
  workers.push({ worker, running: worker.run() });
}

beforeAll(async () => {
  env = await devServerEnvironment();
  await startWorker('replay-cli', '../workflows/index');
  await startWorker('replay-cli-patched', '../workflows/patched');
});

afterAll(async () => {
  for (const { worker } of workers) worker.shutdown();
  await Promise.all(workers.map((w) => w.running));
  await env?.teardown();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `tsx scripts/replay.ts ...args` in the project root, pointed at the test's dev server. */
function replay(...args: string[]): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'scripts', 'replay.ts'), ...args], {
      cwd: root,
      env: {
        ...process.env,
        COEXIST_ENV: 'local',
        TEMPORAL_ADDRESS: env.connection.options.address,
        TEMPORAL_NAMESPACE: 'default',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

/** Runs a test-machine workflow to `waiting` and waits until its history is quiet (no task in flight). */
async function runToWaiting(workflowId: string, taskQueue: string): Promise<WorkflowHandle> {
  const handle = await env.client.workflow.start('testMachineWorkflow', { taskQueue, workflowId, args: [{ input: {} }] });
  await handle.signal(eventSignal, { type: 'start' });
  await handle.signal(eventSignal, { type: 'note', id: 'n1' });
  await viewWhen(handle, (v) => v.state === 'waiting' && (v.context as { notes: number }).notes === 1);
  // The `record` activity of waiting's entry has completed and its workflow task is done.
  await eventually(
    async () => (await handle.fetchHistory()).events ?? [],
    (events) =>
      events.some((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) &&
      events.at(-1)?.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  );
  return handle;
}

let original: WorkflowHandle;
let events: temporal.api.history.v1.IHistoryEvent[];

test('a workflow replays cleanly against the code that ran it, by id and by run id', async () => {
  original = await runToWaiting('replay-cli-test-machine', 'replay-cli');
  events = (await original.fetchHistory()).events ?? [];
  const { runId } = await original.describe();

  const latest = await replay('replay-cli-test-machine', '--workflows', 'test/workflows/index.ts');
  expect(latest).toMatchObject({ code: 0 });
  expect(latest.stdout).toContain(
    `replay-cli-test-machine (run ${runId}, testMachineWorkflow, ${events.length} events) against test/workflows/index.ts: replays cleanly (${events.length} events)`,
  );

  const byRun = await replay('replay-cli-test-machine', '--run-id', runId, '--workflows', 'test/workflows/index.ts');
  expect(byRun).toMatchObject({ code: 0 });
  expect(byRun.stdout).toMatch(/replays cleanly/);
});

test('against the changed machine it exits 1 and names the event where the code diverges', async () => {
  const timer = events.find((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)!;
  const run = await replay('replay-cli-test-machine', '--workflows', 'test/workflows/changed.ts');
  expect(run.code).toBe(1);
  expect(run.stdout).toContain('does NOT replay');
  expect(run.stdout).toContain(`diverges at event ${Number(timer.eventId)} (TimerStarted, timer `);
  expect(run.stdout).toMatch(/the code now schedules an activity where the history has TimerStarted/);
  expect(run.stdout).toMatch(/SDK: .*HistoryEvent\(id: \d+, TimerStarted\)/);
});

test('the same change behind patched() replays the old run, and new runs take the new machine', async () => {
  const old = await replay('replay-cli-test-machine', '--workflows', 'test/workflows/patched.ts');
  expect(old.code).toBe(0);
  expect(old.stdout).toMatch(/replays cleanly/);

  // A run started on the patched code records the marker and waits without a timer.
  const fresh = await runToWaiting('replay-cli-patched', 'replay-cli-patched');
  const view = await viewWhen(fresh, (v) => v.state === 'waiting');
  expect(view.pendingTimers).toEqual([]);
  const freshEvents = (await fresh.fetchHistory()).events ?? [];
  expect(freshEvents.some((e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED)).toBe(true);
  expect(freshEvents.some((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)).toBe(false);
  const run = await replay('replay-cli-patched', '--workflows', 'test/workflows/patched.ts');
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/replays cleanly/);
});

test('against a module without its workflow type (the default, workflows/index.ts) it exits 1 saying so', async () => {
  const run = await replay('replay-cli-test-machine');
  expect(run.code).toBe(1);
  expect(run.stdout).toContain('against workflows/index.ts: replay failed');
  expect(run.stdout).toContain('testMachineWorkflow is not a workflow of workflows/index.ts');
  expect(run.stderr).toBe('');
});

test('an unknown workflow exits 1 saying so; bad usage exits 2', async () => {
  const unknown = await replay('no-such-workflow', '--workflows', 'test/workflows/index.ts');
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain(`no workflow no-such-workflow in namespace default at ${env.connection.options.address}`);

  for (const args of [[], ['a', 'b'], ['x', '--bogus'], ['x', '--workflows', 'test/workflows/nope.ts']]) {
    const run = await replay(...args);
    expect({ args, code: run.code }).toEqual({ args, code: 2 });
    expect(run.stderr).toContain('Usage: npm run replay');
  }
});
