/**
 * Every committed history (test/histories/, refreshed by `npm run histories:record`) must replay
 * against the current workflow code; a deliberately non-deterministic machine change must not,
 * and the same change behind `patched()` (test/workflows/patched.ts) must let it replay again.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describeDivergence } from '../../scripts/replay';
import { workflowBundle } from '../helpers/temporal';

const historiesDir = join(__dirname, '..', 'histories');
const histories = readdirSync(historiesDir)
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({ file, history: historyFromJSON(JSON.parse(readFileSync(join(historiesDir, file), 'utf8'))) }));
const testMachineHistory = () => histories.find((h) => h.file === 'test-machine.json')!.history;

test('the committed histories exist', () => {
  expect(histories.map((h) => h.file)).toContain('test-machine.json');
});

test.each(histories.map((h) => [h.file, h.history] as const))('%s replays against the current code', async (_file, history) => {
  const bundle = await workflowBundle(require.resolve('../workflows/all'));
  await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history)).resolves.toBeUndefined();
});

test('a non-deterministic machine change makes the replay fail, at the first timer the machine no longer starts', async () => {
  const history = testMachineHistory();
  const changed = await workflowBundle(require.resolve('../workflows/changed'));
  const replay = Worker.runReplayHistory({ workflowBundle: changed }, history);
  await expect(replay).rejects.toThrow(DeterminismViolationError);

  // What `npm run replay` reports: the history's first TimerStarted (the `after` of waiting).
  const error = (await replay.catch((e: unknown) => e)) as DeterminismViolationError;
  const firstTimer = history.events!.find((e) => e.timerStartedEventAttributes)!;
  const divergence = describeDivergence(error.message, history);
  expect(divergence.eventId).toBe(Number(firstTimer.eventId));
  expect(divergence.summary).toMatch(new RegExp(`^diverges at event ${Number(firstTimer.eventId)} \\(TimerStarted, timer \\S+ for 86400000 ms\\): `));
});

test('a breaking change to the onboarding machine fails the replay of every recorded onboarding that got past prerequisites', async () => {
  const changed = await workflowBundle(require.resolve('../workflows/onboarding-changed'));
  const onboardings = histories.filter((h) => /\.onboarding\.json$/.test(h.file) && JSON.stringify(h.history).includes('exchangeSignupCode'));
  expect(onboardings.length).toBeGreaterThanOrEqual(5);
  for (const { file, history } of onboardings) {
    const error = await Worker.runReplayHistory({ workflowBundle: changed }, history).catch((e: unknown) => e);
    expect([file, error]).toEqual([file, expect.any(DeterminismViolationError)]);
  }
});

test('the same change behind patched() replays the old history with the old machine', async () => {
  const patched = await workflowBundle(require.resolve('../workflows/patched'));
  await expect(Worker.runReplayHistory({ workflowBundle: patched }, testMachineHistory())).resolves.toBeUndefined();
});
