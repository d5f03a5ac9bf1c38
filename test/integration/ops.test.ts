/**
 * Ops on real Temporal (dev server): stuck onboardings found through visibility (the API and the
 * Temporal CLI's own query), inspected without reading histories, repaired with an audit trail.
 */
import { execFileSync } from 'node:child_process';
import { ensureTemporalBinaries } from '../../scripts/temporal-binaries';
import { startHarness, type Harness } from '../helpers/harness';
import { createPhone, onboardToActive, throughSignup } from '../helpers/onboard';
import { eventually } from '../helpers/wait';

const ALICE = 'alice-ops-token-0001';
let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    env: { OPS_TOKENS: `alice:${ALICE},bob:bob-ops-token-00002`, OPS_STAGE_BUDGETS: '{"linking":1500}' },
  });
});

afterAll(async () => {
  await h?.stop();
});

async function ops(method: string, path: string, body?: unknown, token = ALICE) {
  const response = await fetch(`${h.apiUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as any };
}

const phone = '+15550300001';
const path = `/ops/onboardings/${encodeURIComponent(phone)}`;

test('without a valid ops token nothing is shown', async () => {
  for (const token of ['', 'wrong-token-wrong-token']) {
    const answer = await ops('GET', '/ops/onboardings', undefined, token);
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String), field: 'headers.authorization' } });
  }
  // The backend's key is not an ops token.
  expect((await ops('GET', '/ops/onboardings', undefined, h.config.BACKEND_API_KEY)).status).toBe(401);
});

test('an onboarding left in linking past its budget is listed as stuck, inspected, and repaired with the operator named', async () => {
  await createPhone(h, phone);
  await throughSignup(h, phone, { linkingAttemptTtlMs: 30 * 60_000 });

  const stuck = await eventually(
    () => ops('GET', '/ops/onboardings?stuck=true&stage=linking'),
    (r) => r.body.onboardings?.some((o: any) => o.phoneNumber === phone),
  );
  const listed = stuck.body.onboardings.find((o: any) => o.phoneNumber === phone);
  expect(listed).toMatchObject({ id: `onboarding:${phone}`, stage: 'linking', stuck: true, budgetMs: 1500, linkingAttempts: 1 });
  expect(listed.ageMs).toBeGreaterThan(1500);
  expect((await ops('GET', '/ops/onboardings?stuck=false')).body.onboardings.some((o: any) => o.phoneNumber === phone)).toBe(
    false,
  );

  // The same query in the Temporal CLI (and so in the Web UI's filter).
  const { cli } = ensureTemporalBinaries();
  const cutoff = new Date(Date.now() - 1500).toISOString();
  const listedByCli = execFileSync(
    cli,
    [
      'workflow',
      'list',
      '--address',
      h.env.connection.options.address,
      '--query',
      `OnboardingStage = 'linking' AND OnboardingStageEnteredAt < '${cutoff}'`,
      '-o',
      'json',
    ],
    { encoding: 'utf8' },
  );
  expect(listedByCli).toContain(`onboarding:${phone}`);

  const inspected = (await ops('GET', path)).body;
  // Linking is the signup session before FINISH: no token exists yet.
  expect(inspected).toMatchObject({ stage: 'linking', state: 'linking.session', stuck: true, blocked: null });
  expect(inspected.context.sealedToken).toBeUndefined();
  expect(JSON.stringify(inspected)).not.toMatch(/EAAG/);
  expect(inspected.pendingTimers.length).toBeGreaterThan(0);
  expect(inspected.machine.states.map((s: any) => s.key)).toEqual(
    expect.arrayContaining(['prerequisites', 'linking', 'active', 'blocked']),
  );
  expect(inspected.timeline.map((t: any) => t.event)).toContain('signup.started');
  // Who must act, and only the repairs linking takes (asked of the machine); the list says who too.
  expect(inspected.waitingFor).toMatchObject({ actor: 'person', waitsFor: expect.stringContaining('scan the QR code') });
  expect(inspected.actions).toEqual([{ action: 'refreshLinking' }, { action: 'cancel' }]);
  expect(listed.waitingFor.actor).toBe('person');
  // The whole `name:token` pair, as OPS_TOKENS spells it, is a token too.
  expect((await ops('GET', path, undefined, `alice:${ALICE}`)).body.id).toBe(`onboarding:${phone}`);

  const refreshed = await ops('POST', `${path}/actions`, { action: 'refreshLinking' });
  expect(refreshed.status).toBe(200);
  expect(refreshed.body.context.linkingAttempts).toBe(2);
  expect(refreshed.body.timeline.at(-1)).toMatchObject({ event: 'linking.refresh', by: 'ops:alice' });
  // Still linking: the stage's clock keeps running from its first entry.
  expect(refreshed.body).toMatchObject({ stage: 'linking', since: listed.since });

  // Repaired from Temporal's own tools (the Web UI's "send signal" does the same): the `event` signal.
  execFileSync(cli, [
    'workflow',
    'signal',
    '--address',
    h.env.connection.options.address,
    '--workflow-id',
    `onboarding:${phone}`,
    '--name',
    'event',
    '--input',
    '{"type":"linking.refresh","by":"ops:temporal-cli"}',
  ]);
  const bySignal = await eventually(
    () => ops('GET', path),
    (r) => r.body.context.linkingAttempts === 3,
  );
  expect(bySignal.body.timeline.at(-1)).toMatchObject({ event: 'linking.refresh', by: 'ops:temporal-cli' });

  // What the state cannot take is refused with the reason, and nothing changes.
  const refused = await ops('POST', `${path}/actions`, { action: 'reset', to: 'signup' });
  expect(refused.status).toBe(409);
  expect(refused.body.error.message).toMatch(/cannot take reset/);
  expect((await ops('GET', path)).body.context.linkingAttempts).toBe(3);

  const bad = await ops('POST', `${path}/actions`, { action: 'reset', to: 'active' });
  expect(bad).toMatchObject({ status: 400, body: { error: { field: 'body.to' } } });

  const cancelled = await ops('POST', `${path}/actions`, { action: 'cancel' }, 'bob-ops-token-00002');
  expect(cancelled.body.timeline.at(-1)).toMatchObject({ event: 'cancel', by: 'ops:bob' });
});

test('once Meta posted FINISH the token shows only as [redacted], and the sync deadline is listed', async () => {
  const connected = '+15550300002';
  await onboardToActive(h, connected);
  const inspected = (await ops('GET', `/ops/onboardings/${encodeURIComponent(connected)}`)).body;
  expect(inspected.context.sealedToken).toBe('[redacted]');
  expect(JSON.stringify(inspected)).not.toMatch(/EAAG/);
  // 24 h from FINISH; synced already, so not near for ops.
  expect(Date.parse(inspected.syncDeadline)).toBeGreaterThan(Date.now() + 23 * 3_600_000);
  expect(inspected.syncDeadlineNear).toBe(false);
  expect(Math.abs(inspected.statusCard.syncDeadline - Date.parse(inspected.syncDeadline))).toBeLessThan(1000);
});

test('bad filters are 400 naming the field; an unknown onboarding is 404', async () => {
  expect((await ops('GET', '/ops/onboardings?stage=nowhere')).body.error.field).toBe('query.stage');
  expect((await ops('GET', "/ops/onboardings?blockedReason=x' OR 1=1")).body.error.field).toBe('query.blockedReason');
  expect((await ops('GET', `/ops/onboardings/${encodeURIComponent('+15550309999')}`)).status).toBe(404);
  expect((await ops('POST', `/ops/onboardings/${encodeURIComponent('+15550309999')}/actions`, { action: 'retry' })).status).toBe(
    404,
  );
});
