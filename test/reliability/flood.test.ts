/**
 * Flood with duplicates (issue 9, item 4; issue 17): 10 000 signed webhooks, 30 % repeated byte for
 * byte, shuffled, from a second process at a fixed concurrency over loopback, among them a delivery
 * of 1,000 messages, deliveries for numbers no onboarding registered and deliveries with a malformed
 * message beside a valid one. Every valid message is recorded exactly once, every bad delivery is
 * quarantined exactly once (its redeliveries too), and the API's resident memory stays bounded.
 */
import { loadConfig } from '../../config';
import { openMessageStore } from '../../store';
import type { QuarantineEntry } from '../../store/inbox';
import type { MessageStore } from '../../store/message-store';
import { reconcile } from '../helpers/reconcile';
import { spawnTs, type WatchedProcess } from '../helpers/processes';
import { separateStackMissing, startSeparateStack, type SeparateStack } from '../helpers/separate-stack';
import { eventually } from '../helpers/wait';
import { registerNumber } from '../helpers/register';
import { floodExpectation, validCount, type FloodPlan } from './flood';

const missing = separateStackMissing();
if (missing) console.warn(`flood test SKIPPED: ${missing}`);

let stack: SeparateStack;
let store: MessageStore | undefined;
afterAll(async () => {
  await store?.close();
  await stack?.stop();
});

const MB = 1024 * 1024;

(missing ? test.skip : test)(
  '10 000 signed webhooks, 30 % repeated, shuffled, 32 at a time, with a 1,000-message delivery, unknown numbers and malformed items: each valid message recorded once, each bad delivery quarantined once, the API’s memory bounded',
  async () => {
    // WAL without fsync per commit: the flood measures coexist, not the disk of a shared CI machine.
    stack = await startSeparateStack({ sqlitePragmas: ['journal_mode=wal', 'synchronous=off'] });
    await stack.startWorker();
    const api = await stack.startApi();
    // The flood's number as its onboarding registers it; the unknown numbers are in no registry.
    store = await openMessageStore(loadConfig(stack.env));
    await registerNumber(store, { phoneNumberId: '900000000000002', wabaId: '900000000000001', display: '15550940001' });
    const plan: FloodPlan = {
      webhooks: 10_000,
      duplicateRatio: 0.3,
      customers: 50,
      concurrency: 32,
      seed: 9,
      wabaId: '900000000000001',
      phoneNumberId: '900000000000002',
      displayPhoneNumber: '15550940001',
      unknownNumberDeliveries: 300,
      unknownNumbers: ['900000000000097', '900000000000098', '900000000000099'],
      malformedDeliveries: 300,
      bulkMessages: 1_000,
      appSecret: stack.appSecret,
      deadlineMs: 480_000,
    };

    const samples: { accepted: number; rss: number }[] = [];
    let accepted = 0;
    const sample = () => {
      const rss = api.rssBytes();
      if (rss) samples.push({ accepted, rss });
    };
    sample();
    const flood: WatchedProcess = spawnTs('flood', 'test/reliability/flood.ts', {
      FLOOD_PLAN: JSON.stringify(plan),
      FLOOD_URL: `${stack.apiUrl}/webhooks/meta`,
    });
    flood.child.stdout!.on('data', (chunk: Buffer) => {
      for (const m of chunk.toString().matchAll(/"accepted":(\d+)/g)) accepted = Number(m[1]);
    });
    const sampler = setInterval(sample, 500);
    const exit = await flood.exited;
    clearInterval(sampler);
    sample();
    expect({ exit, tail: exit.code === 0 ? [] : flood.lines.slice(-5) }).toEqual({ exit: { code: 0, signal: null }, tail: [] });
    const summary = JSON.parse(flood.lines.find((l) => l.includes('"flood done"'))!);
    expect(summary).toMatchObject({ webhooks: 10_000, unique: 7_000, repeated: 3_000 });
    expect(api.child.exitCode).toBeNull();

    const flooded = Date.now();
    const r = await eventually(
      () => reconcile(stack.api, plan.phoneNumberId, floodExpectation(plan)),
      (x) => x.recorded >= x.sent,
      { timeoutMs: 480_000, intervalMs: 5_000 },
    );
    const valid = validCount(plan);
    expect(valid).toBe(7_000 - 1 - plan.unknownNumberDeliveries + plan.bulkMessages);
    expect(r).toEqual({ sent: valid, recorded: valid, duplicated: 0, missing: 0, unexpected: 0 });

    // The quarantine: each bad delivery once, with its one reason, whatever its redeliveries; nothing else.
    const entries: QuarantineEntry[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listQuarantine({ limit: 200, ...(cursor ? { cursor } : {}) });
      entries.push(...page.entries);
      cursor = page.nextCursor;
    } while (cursor);
    const byReason = new Map<string, number>();
    for (const e of entries) byReason.set(e.classifications.join(' '), (byReason.get(e.classifications.join(' ')) ?? 0) + 1);
    expect(Object.fromEntries(byReason)).toEqual({
      'unknown_number:900000000000097': 100,
      'unknown_number:900000000000098': 100,
      'unknown_number:900000000000099': 100,
      'messages:malformed_message': plan.malformedDeliveries,
    });
    expect(new Set(entries.map((e) => e.deliveryId)).size).toBe(entries.length);

    const recordedAfterMs = Date.now() - flooded;
    const baseline = samples[0]!.rss;
    const peak = Math.max(...samples.map((s) => s.rss));
    const early = Math.max(...samples.filter((s) => s.accepted <= 2_000).map((s) => s.rss));
    const late = Math.max(...samples.filter((s) => s.accepted >= 8_000).map((s) => s.rss));
    console.log(
      `flood: webhooks ${summary.webhooks} (unique ${summary.unique}, repeated ${summary.repeated}) in ${(summary.durationMs / 1000).toFixed(1)} s at concurrency ${plan.concurrency}; ` +
        `answers ${JSON.stringify(summary.answers)}; recorded ${r.recorded}, quarantined ${entries.length} (all within ${(recordedAfterMs / 1000).toFixed(0)} s of the flood's end), duplicated ${r.duplicated}, missing ${r.missing}; ` +
        `API RSS baseline ${(baseline / MB).toFixed(0)} MB, peak ${(peak / MB).toFixed(0)} MB, up to 2000 accepted ${(early / MB).toFixed(0)} MB, from 8000 ${(late / MB).toFixed(0)} MB (${samples.length} samples)`,
    );
    // Bounded: well under a container's memory, and no growth with the count once the flood runs.
    expect(peak).toBeLessThan(baseline + 400 * MB);
    expect(late - early).toBeLessThan(150 * MB);
  },
);
