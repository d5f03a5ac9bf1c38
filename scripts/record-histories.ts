/**
 * Refreshes the committed workflow histories under test/histories/: `npm run histories:record`.
 * Every scenario file of test/scenarios/ is played on the real workflows (as `npm test` plays them)
 * and the histories of its onboarding, conversations and sender are saved; so is the interpreter's
 * own test machine. The replay test replays them all against the current code, so a change that
 * breaks running workflows fails `npm test`.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { loadScenario } from '../scenarios/load';
import { playScenario } from '../scenarios/runner';
import type { Scenario } from '../scenarios/schema';
import { conversationWorkflowId, onboardingWorkflowId, senderWorkflowId } from '../contracts/ids';
import { eventSignal } from '../contracts/machine-api';
import { harnessPool } from '../test/helpers/scenario-targets';
import { createTestActivities } from '../test/helpers/test-activities';
import { timeSkippingEnvironment, workflowBundle, testDataConverter } from '../test/helpers/temporal';
import { viewWhen } from '../test/helpers/wait';
import { DAY_MS, PONG_DELAY_MS, type TestEvent } from '../test/workflows/test-machine';

const historiesDir = join(__dirname, '..', 'test', 'histories');

async function main(): Promise<void> {
  await recordTestMachine();
  await recordScenarios();
}

async function recordScenarios(): Promise<void> {
  const dir = join(__dirname, '..', 'test', 'scenarios');
  const workflows = harnessPool();
  try {
    for (const file of readdirSync(dir)
      .filter((f) => /\.(ya?ml|json)$/.test(f))
      .sort()) {
      const scenario = loadScenario(join(dir, file));
      const { harness, target } = await workflows.targetFor(scenario);
      await playScenario(scenario, target, { expectTimeoutMs: 60_000 });
      const stem = `scenario.${file.replace(/\.(ya?ml|json)$/, '')}`;
      const client = harness.env.client;
      await save(client.workflow.getHandle(onboardingWorkflowId(scenario.phone)), `${stem}.onboarding`);
      const phoneNumberId = harness.simulator.world.numbers.get(scenario.phone)?.phoneNumberId;
      if (!phoneNumberId) continue;
      for (const waId of customersOf(scenario)) {
        await save(client.workflow.getHandle(conversationWorkflowId(phoneNumberId, waId)), `${stem}.conversation-${waId}`);
      }
      if (scenario.steps.some((s) => s.do === 'send'))
        await save(client.workflow.getHandle(senderWorkflowId(phoneNumberId)), `${stem}.sender`);
    }
  } finally {
    await workflows.stop();
  }
}

/** The customers a scenario talks with: those it sends to or expects anything of. */
function customersOf(scenario: Scenario): string[] {
  const ids = new Set<string>();
  for (const step of scenario.steps) {
    if (step.do === 'send') ids.add(step.waId);
    for (const waId of Object.keys({ ...step.expect?.conversations, ...step.expect?.messages })) ids.add(waId);
  }
  return [...ids];
}

async function recordTestMachine(): Promise<void> {
  const env = await timeSkippingEnvironment();
  const taskQueue = 'record-histories';
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    dataConverter: testDataConverter,
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
