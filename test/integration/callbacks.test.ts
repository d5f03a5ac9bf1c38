/**
 * Backend callbacks on real Temporal (dev server) over real HTTP: a backend that refuses, answers
 * slowly or not at all gets the same signed delivery again until it accepts, in the onboarding's
 * order, and a delivery still refused shows in ops.
 */
import { signCallback } from '../../activities/backend';
import type { ReceivedCallback } from '../helpers/callback-receiver';
import { startHarness, http, type Harness } from '../helpers/harness';
import { createPhone, scan, throughSignup } from '../helpers/onboard';
import { eventually } from '../helpers/wait';

const OPS_TOKEN = 'callbacks-test-ops-token';
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ env: { OPS_TOKENS: `test:${OPS_TOKEN}` } });
});

afterAll(async () => {
  await h?.stop();
});

let seq = 0;
function nextNumber(): string {
  return `+1555020${String(++seq).padStart(4, '0')}`;
}

const ofPhone = (phone: string) => h.callbacks.attempts.filter((a) => a.callback?.phoneNumber === phone);
const accepted = (phone: string, kind: string) =>
  eventually(
    () => h.callbacks.received.find((c) => c.phoneNumber === phone && c.kind === kind),
    (c) => c !== undefined,
    { timeoutMs: 90_000, intervalMs: 100 },
  ) as Promise<ReceivedCallback>;

test('a callback refused twice (503, then a slow 500) arrives on the third attempt, same delivery id, body and signature', async () => {
  const phone = nextNumber();
  h.callbacks.script((c) => c.phoneNumber === phone && c.kind === 'active', [{ status: 503 }, { status: 500, delayMs: 2_000 }]);
  await createPhone(h, phone);
  await throughSignup(h, phone);
  await scan(h, phone);
  const delivered = await accepted(phone, 'active');

  const tries = ofPhone(phone).filter((a) => a.callback?.kind === 'active');
  expect(tries.map((a) => a.answer)).toEqual([503, 500, 204]);
  expect(new Set(tries.map((a) => a.deliveryId))).toEqual(new Set([delivered.deliveryId]));
  expect(new Set(tries.map((a) => a.body)).size).toBe(1);
  expect(new Set(tries.map((a) => a.signature))).toEqual(new Set([signCallback(tries[0]!.body, 'scenario-callback-secret')]));
  expect(h.callbacks.received.filter((c) => c.deliveryId === delivered.deliveryId)).toHaveLength(1);
});

test('order per onboarding holds across retries: nothing after a refused callback is sent before it is accepted', async () => {
  const phone = nextNumber();
  // The first callback: refused, then no answer (the sender times out), then refused again.
  let refused: string | undefined;
  h.callbacks.script(
    (c) => c.phoneNumber === phone && (refused ??= c.deliveryId) === c.deliveryId,
    [{ status: 503 }, 'hang', { status: 502 }],
  );
  await createPhone(h, phone);
  await throughSignup(h, phone);
  await scan(h, phone);
  await h.onboardingWhen(phone, (o) => o.stage === 'active' && o.sync.historyProgress.status === 'complete', 90_000);
  await accepted(phone, 'active');
  await accepted(phone, 'historyOutcome');

  const tries = ofPhone(phone);
  expect(tries.filter((a) => a.deliveryId === refused).map((a) => a.answer)).toEqual([503, 'hang', 502, 204]);
  // Each delivery's first attempt comes only once every earlier delivery was accepted.
  const order: string[] = [];
  for (const [index, attempt] of tries.entries()) {
    const id = attempt.deliveryId!;
    if (order.includes(id)) continue;
    for (const earlier of order) {
      const acceptedAt = tries.findIndex((a) => a.deliveryId === earlier && a.answer === 204);
      expect({ earlier, acceptedBefore: acceptedAt >= 0 && acceptedAt < index }).toEqual({ earlier, acceptedBefore: true });
    }
    order.push(id);
  }
  // Something was waiting behind the refused callback, and was accepted after it.
  expect(order.indexOf(refused!)).toBeGreaterThanOrEqual(0);
  expect(order.length).toBeGreaterThan(order.indexOf(refused!) + 1);
  expect(h.callbacks.received.filter((c) => c.phoneNumber === phone).map((c) => c.deliveryId)).toEqual(order);
});

test('a callback the backend keeps refusing is never given up and shows in ops, attempts and last failure, until accepted', async () => {
  const phone = nextNumber();
  const refusing = h.callbacks.script(
    (c) => c.phoneNumber === phone && c.kind === 'active',
    Array.from({ length: 1_000 }, () => ({ status: 503 })),
  );
  await createPhone(h, phone);
  await throughSignup(h, phone);
  await scan(h, phone);
  const ops = () =>
    http(h.apiUrl, 'GET', `/ops/onboardings/${encodeURIComponent(phone)}`, undefined, {
      authorization: `Bearer ${OPS_TOKEN}`,
    });
  // The retry policy has no last attempt: past a few refusals, ops shows the pending delivery.
  const shown = await eventually(
    ops,
    (r) => r.status === 200 && r.body.activities.some((a: any) => a.type === 'notifyBackend' && a.attempt >= 4),
    { timeoutMs: 90_000, intervalMs: 500 },
  );
  expect(shown.body.activities).toContainEqual({
    type: 'notifyBackend',
    attempt: expect.any(Number),
    lastFailure: 'backend callback: the backend answered 503',
  });
  expect(ofPhone(phone).filter((a) => a.answer === 503).length).toBeGreaterThanOrEqual(3);
  expect(h.callbacks.received.some((c) => c.phoneNumber === phone && c.kind === 'active')).toBe(false);

  refusing.release();
  await accepted(phone, 'active');
  const after = await eventually(ops, (r) => r.status === 200 && r.body.activities.length === 0, {
    timeoutMs: 90_000,
    intervalMs: 500,
  });
  expect(after.body.effectFailures).toEqual([]);
  expect(
    new Set(
      ofPhone(phone)
        .filter((a) => a.callback?.kind === 'active')
        .map((a) => a.deliveryId),
    ).size,
  ).toBe(1);
});
