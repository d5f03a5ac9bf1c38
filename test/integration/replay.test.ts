/**
 * Every committed history (test/histories/, refreshed by `npm run histories:record`) must replay
 * against the current workflow code; a deliberately non-deterministic machine change must not,
 * and the same change behind `patched()` (test/workflows/patched.ts) must let it replay again.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { loadConfig } from '../../config';
import { AesGcmPayloadCodec, dataConverter } from '../../security/payload-codec';
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

// Replayed as a worker replays: with the payload codec, which leaves these plain payloads as they are.
const codecKeys = loadConfig({}).PAYLOAD_CODEC_KEYS;

test.each(histories.map((h) => [h.file, h.history] as const))('%s replays against the current code', async (_file, history) => {
  const bundle = await workflowBundle(require.resolve('../workflows/all'));
  await expect(
    Worker.runReplayHistory({ workflowBundle: bundle, dataConverter: dataConverter({ PAYLOAD_CODEC_KEYS: codecKeys }) }, history),
  ).resolves.toBeUndefined();
});

/** The history as the server keeps it when the codec encrypts: every payload but search attributes and headers. */
async function encrypted<T>(node: T, codec: AesGcmPayloadCodec): Promise<T> {
  if (Array.isArray(node)) return (await Promise.all(node.map((n) => encrypted(n, codec)))) as T;
  if (!node || typeof node !== 'object' || node instanceof Uint8Array) return node;
  const o = node as Record<string, unknown>;
  if (o.metadata && o.data instanceof Uint8Array) return (await codec.encode([o as Payload]))[0] as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = k === 'searchAttributes' || k === 'header' ? v : await encrypted(v, codec);
  return out as T;
}

test('an encrypted history replays with its key, also after a rotation, and not without it', async () => {
  const bundle = await workflowBundle(require.resolve('../workflows/all'));
  const history = await encrypted(testMachineHistory(), new AesGcmPayloadCodec(codecKeys));
  expect(JSON.stringify(history)).not.toContain('json/plain');
  const rotated = [{ id: 'next', key: randomBytes(32) }, ...codecKeys];
  await expect(
    Worker.runReplayHistory({ workflowBundle: bundle, dataConverter: dataConverter({ PAYLOAD_CODEC_KEYS: rotated }) }, history),
  ).resolves.toBeUndefined();
  await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history)).rejects.toThrow();
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
  expect(divergence.summary).toMatch(
    new RegExp(`^diverges at event ${Number(firstTimer.eventId)} \\(TimerStarted, timer \\S+ for 86400000 ms\\): `),
  );
});

test('a breaking change to the onboarding machine fails the replay of every recorded onboarding that got past prerequisites', async () => {
  const changed = await workflowBundle(require.resolve('../workflows/onboarding-changed'));
  const onboardings = histories.filter(
    (h) => /\.onboarding\.json$/.test(h.file) && JSON.stringify(h.history).includes('exchangeSignupCode'),
  );
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
