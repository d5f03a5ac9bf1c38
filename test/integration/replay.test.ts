/**
 * Every committed history (test/histories/, refreshed by `npm run histories:record`) must replay
 * against the current workflow code; a deliberately non-deterministic machine change must not.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { workflowBundle } from '../helpers/temporal';

const historiesDir = join(__dirname, '..', 'histories');
const histories = readdirSync(historiesDir)
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({ file, history: historyFromJSON(JSON.parse(readFileSync(join(historiesDir, file), 'utf8'))) }));

test('the committed histories exist', () => {
  expect(histories.map((h) => h.file)).toContain('test-machine.json');
});

test.each(histories.map((h) => [h.file, h.history] as const))('%s replays against the current code', async (_file, history) => {
  const bundle = await workflowBundle(require.resolve('../workflows/all'));
  await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history)).resolves.toBeUndefined();
});

test('a non-deterministic machine change makes the replay fail', async () => {
  const { history } = histories.find((h) => h.file === 'test-machine.json')!;
  const changed = await workflowBundle(require.resolve('../workflows/changed'));
  await expect(Worker.runReplayHistory({ workflowBundle: changed }, history)).rejects.toThrow(DeterminismViolationError);
});
