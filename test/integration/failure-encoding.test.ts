/**
 * A failure's text is encrypted like any payload: a real workflow runs on a worker built with the
 * production options (its data converter and tuning, bundled from the workflows path as
 * `createWorker` does); its activity fails with a Meta error that quotes an access token and a
 * message text. The history that `temporal workflow show` prints holds neither, while the workflow
 * itself (and the client) still read the whole message.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { metaFailure } from '../../activities/meta/errors';
import { loadConfig } from '../../config';
import { stateQuery, eventSignal } from '../../contracts/machine-api';
import type { InvocationError } from '../../machines/interpreter-contract';
import { ensureTemporalBinaries } from '../../scripts/temporal-binaries';
import { dataConverter } from '../../security/payload-codec';
import { workerTuning } from '../../worker';
import { devServerEnvironment } from '../helpers/temporal';
import { eventually } from '../helpers/wait';

const run = promisify(execFile);
const accessToken = `EAAG${randomBytes(24).toString('base64url')}`;
const messageText = `Meet me at the back door ${randomBytes(6).toString('hex')}`;
const taskQueue = 'failure-encoding';

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  env = await devServerEnvironment();
  const config = loadConfig({ TEMPORAL_TASK_QUEUE: taskQueue });
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../workflows/index'),
    activities: {
      async record() {},
      async doWork() {
        throw metaFailure('POST /{phone-number-id}/messages', 400, {
          message: `(#100) Invalid parameter: token ${accessToken} cannot send "${messageText}"`,
          code: 100,
          error_data: { details: `"${messageText}" refused for ${accessToken}` },
        });
      },
    },
    dataConverter: dataConverter(config),
    ...workerTuning(config),
  });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

test('a Meta error quoting a token and a message text is readable by the workflow, not in the history', async () => {
  const handle = await env.client.workflow.start('testMachineWorkflow', {
    taskQueue,
    workflowId: 'failure-encoding',
    args: [{ input: {} }],
  });
  await handle.signal(eventSignal, { type: 'work', mode: 'fail' });
  const view = await eventually(
    () => handle.query(stateQuery),
    (v) => v.state === 'workFailed',
  );
  const error = (view.context as { error: InvocationError }).error;
  expect(error.message).toContain(messageText);
  expect(error.message).toContain(accessToken);
  expect(error).toMatchObject({ type: 'MetaApiError', nonRetryable: true });

  const { stdout } = await run(
    ensureTemporalBinaries().cli,
    ['workflow', 'show', '--output', 'json', '--address', env.address, '-w', 'failure-encoding'],
    { maxBuffer: 64 << 20 },
  );
  const history = JSON.parse(stdout) as {
    events: { eventType: string; activityTaskFailedEventAttributes?: { failure: unknown } }[];
  };
  const failed = history.events.filter((e) => /ACTIVITY_TASK_FAILED|ActivityTaskFailed/.test(e.eventType));
  expect(failed).toHaveLength(1);
  expect(JSON.stringify(failed[0])).toContain('Encoded failure');
  for (const text of readable(stdout)) {
    expect(text).not.toContain(accessToken);
    expect(text).not.toContain(messageText);
  }
});

/** Every string of the JSON document, and what it reads as when it is base64 (payload data). */
function readable(json: string): string[] {
  const strings: string[] = [];
  const walk = (node: unknown): void => {
    if (typeof node === 'string') strings.push(node, Buffer.from(node, 'base64').toString('utf8'));
    else if (node && typeof node === 'object') Object.values(node).forEach(walk);
  };
  walk(JSON.parse(json));
  return strings;
}
