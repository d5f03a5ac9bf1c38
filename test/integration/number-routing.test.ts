/**
 * Webhooks attached by the number registry (issue 17, finding 4): a change that names a business
 * number is applied only when an onboarding registered that number under the entry's WABA. Meta's
 * dashboard test sample and a number sent under another tenant's WABA are quarantined, never written
 * anywhere, and replayable; a delivery Meta sends before the onboarding registers its number is
 * replayed once it does. Real API over HTTP, real Temporal, the simulator, signed bodies.
 */
import { startHarness, type Harness } from '../helpers/harness';
import { createPhone, onboardToActive, scan, throughSignup } from '../helpers/onboard';
import { registerNumber } from '../helpers/register';
import { postSignedWebhook, customerMessagesEnvelope, customerText } from '../helpers/webhooks';
import { eventually } from '../helpers/wait';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.stop();
});

const post = (raw: string) => postSignedWebhook(h, raw);

async function ops(method: string, path: string, body?: unknown) {
  const response = await fetch(`${h.apiUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${h.config.OPS_TOKENS[0]!.token}` },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** The quarantine's entries with this classification, newest first. */
const quarantined = async (classification: string) =>
  (await ops('GET', `/ops/quarantine?classification=${encodeURIComponent(classification)}`)).body.entries as any[];

const replay = async (ids: string[]) => (await ops('POST', '/ops/quarantine/replay', { ids })).body;

const messagesOf = async (phoneNumberId: string, waId: string) => {
  const page = await h.api('GET', `/numbers/${phoneNumberId}/conversations/${waId}/messages?order=asc&limit=200`);
  return page.status === 404 ? [] : (page.body.messages as any[]);
};

const contactsOf = async (phoneNumberId: string) =>
  (await h.store.listContacts({ phoneNumberId, removed: 'include', limit: 200 })).contacts;

/** Until the inbox has handed every item over (what the tests posted has reached its workflows or the quarantine). */
const drained = () =>
  eventually(
    () => h.store.inboxDepth(),
    (d) => d.pending === 0,
    { timeoutMs: 120_000 },
  );

/** An envelope with one `messages` change: a customer's text, with the profile Meta sends beside it. */
const customerTextRaw = (wabaId: string, number: { phoneNumberId: string; display: string }, waId: string, id: string) =>
  JSON.stringify(customerMessagesEnvelope({ wabaId, ...number }, waId, [customerText(waId, id, 'Hi')], 'Sheena Nelson'));

/**
 * The sample the App Dashboard's "Test" button posts for the `messages` field, as Meta publishes it:
 * a bare change (no `object`, no `entry`) for the made-up number 123456123.
 */
const DASHBOARD_SAMPLE = {
  field: 'messages',
  value: {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: '16505551111', phone_number_id: '123456123' },
    contacts: [{ profile: { name: 'test user name' }, wa_id: '16315551181' }],
    messages: [
      {
        from: '16315551181',
        id: 'ABGGFlA5Fpa',
        timestamp: '1504902988',
        type: 'text',
        text: { body: 'this is a text message' },
      },
    ],
  },
};

test("Meta's dashboard test sample is quarantined as unknown_number, never a conversation; replaying it routes it the same way", async () => {
  const raw = JSON.stringify(DASHBOARD_SAMPLE);
  expect(await post(raw)).toEqual({ received: 1, queued: 0, unrouted: ['unknown_number:123456123'] });
  // Pressed twice: the same bytes are quarantined once.
  expect(await post(raw)).toEqual({ received: 1, queued: 0, unrouted: ['unknown_number:123456123'] });
  const [entry, ...more] = await quarantined('unknown_number:123456123');
  expect(more).toEqual([]);
  expect(entry).toMatchObject({ classifications: ['unknown_number:123456123'], deliveryId: expect.any(String) });
  expect((await ops('GET', `/ops/quarantine/${entry.id}`)).body).toMatchObject({ body: DASHBOARD_SAMPLE });

  // Replayed (the same routing): still no number of ours, so still nothing applied, kept again.
  expect(await replay([entry.id])).toEqual({ replayed: [{ id: entry.id, queued: 0 }], notReplayable: [] });
  await drained();
  expect((await h.api('GET', '/numbers/123456123/conversations/16315551181')).status).toBe(404);
  expect(await contactsOf('123456123')).toEqual([]);
  const after = await quarantined('unknown_number:123456123');
  expect(after).toHaveLength(2);
  expect(after[1]).toMatchObject({ id: entry.id, replayedAt: expect.any(String) });
  expect(after[0]).toMatchObject({ classifications: ['unknown_number:123456123'], deliveryId: entry.deliveryId });
  expect(after[0].replayedAt).toBeUndefined();
  // Replayed again while nothing changed: the entry kept then is not kept twice.
  await replay([entry.id]);
  expect(await quarantined('unknown_number:123456123')).toHaveLength(2);
});

test('a number registered under another WABA is quarantined as foreign_number, nothing written to its tenant; replayed once the registry has it there, applied once', async () => {
  const phone = '+15550710001';
  const tenant = await onboardToActive(h, phone);
  const number = { phoneNumberId: tenant.phoneNumberId, display: phone.slice(1) };
  const otherWaba = '800000000000777';
  const waId = '16505557101';
  const raw = customerTextRaw(otherWaba, number, waId, 'wamid.foreign-1');
  expect(await post(raw)).toEqual({ received: 1, queued: 0, unrouted: [`foreign_number:${tenant.phoneNumberId}`] });
  await drained();
  expect((await h.api('GET', `/numbers/${tenant.phoneNumberId}/conversations/${waId}`)).status).toBe(404);
  expect((await contactsOf(tenant.phoneNumberId)).filter((c) => c.phoneNumber === waId)).toEqual([]);

  // Replayed as it stands: refused the same way, nothing written.
  const [entry] = await quarantined(`foreign_number:${tenant.phoneNumberId}`);
  expect(await replay([entry.id])).toEqual({ replayed: [{ id: entry.id, queued: 0 }], notReplayable: [] });
  await drained();
  expect(await messagesOf(tenant.phoneNumberId, waId)).toEqual([]);

  // The same change under the tenant's own WABA is applied: the check is the WABA, not the number.
  const own = customerTextRaw(tenant.wabaId, number, waId, 'wamid.foreign-own');
  expect(await post(own)).toMatchObject({ queued: 1, unrouted: [] });
  await eventually(
    () => messagesOf(tenant.phoneNumberId, waId),
    (m) => m.length === 1,
  );

  // A number of ours that the registry has under that WABA (the cause fixed): the replay applies it, once.
  const moved = { phoneNumberId: '106540352299001', display: '15550719001' };
  const movedRaw = customerTextRaw(otherWaba, moved, waId, 'wamid.foreign-moved');
  await registerNumber(h.store, { ...moved, wabaId: '800000000000778' });
  expect(await post(movedRaw)).toMatchObject({ queued: 0, unrouted: [`foreign_number:${moved.phoneNumberId}`] });
  const [movedEntry] = await quarantined(`foreign_number:${moved.phoneNumberId}`);
  await registerNumber(h.store, { ...moved, wabaId: otherWaba });
  expect(await replay([movedEntry.id])).toEqual({ replayed: [{ id: movedEntry.id, queued: 1 }], notReplayable: [] });
  const applied = await eventually(
    () => messagesOf(moved.phoneNumberId, waId),
    (m) => m.length === 1,
  );
  expect(applied.map((m) => m.id)).toEqual(['wamid.foreign-moved']);
  // Nothing doubles: a second replay and Meta's redelivery queue nothing.
  expect(await replay([movedEntry.id])).toEqual({ replayed: [{ id: movedEntry.id, queued: 0 }], notReplayable: [] });
  expect(await post(movedRaw)).toMatchObject({ queued: 0, unrouted: [] });
  await drained();
  expect(await messagesOf(moved.phoneNumberId, waId)).toHaveLength(1);
  // The tenant's own conversation holds its own message only.
  expect((await messagesOf(tenant.phoneNumberId, waId)).map((m) => m.id)).toEqual(['wamid.foreign-own']);
});

test('a message Meta delivers before the onboarding registers its number is replayed once it does: in its conversation exactly once', async () => {
  const phone = '+15550710002';
  const ids = await createPhone(h, phone);
  await throughSignup(h, phone);
  // Linking: the signup code is not exchanged yet, so the registry does not hold the number.
  expect(await h.store.numbers.get(ids.phoneNumberId)).toBeUndefined();
  const number = { phoneNumberId: ids.phoneNumberId, display: phone.slice(1) };
  const waId = '16505557102';
  const raw = customerTextRaw(ids.wabaId, number, waId, 'wamid.early-1');
  expect(await post(raw)).toEqual({ received: 1, queued: 0, unrouted: [`unknown_number:${ids.phoneNumberId}`] });
  const [entry] = await quarantined(`unknown_number:${ids.phoneNumberId}`);
  expect(entry.replayedAt).toBeUndefined();

  await scan(h, phone);
  await h.onboardingWhen(phone, (o) => o.stage === 'active');
  const stored = await eventually(
    () => messagesOf(ids.phoneNumberId, waId),
    (m) => m.length > 0,
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  expect(stored.map((m) => [m.id, m.content])).toEqual([['wamid.early-1', { text: { body: 'Hi' } }]]);
  // The replay wrote what the intake had held back too: the customer's profile name.
  expect((await contactsOf(ids.phoneNumberId)).find((c) => c.phoneNumber === waId)).toMatchObject({
    profileName: 'Sheena Nelson',
  });
  expect((await quarantined(`unknown_number:${ids.phoneNumberId}`)).map((e) => [e.id, e.replayedAt !== undefined])).toEqual([
    [entry.id, true],
  ]);

  // Meta's redelivery of it now, and an operator's replay: nothing doubles.
  expect(await post(raw)).toMatchObject({ queued: 0, unrouted: [] });
  expect(await replay([entry.id])).toEqual({ replayed: [{ id: entry.id, queued: 0 }], notReplayable: [] });
  await drained();
  expect(await messagesOf(ids.phoneNumberId, waId)).toHaveLength(1);
  const conversation = await h.api('GET', `/numbers/${ids.phoneNumberId}/conversations/${waId}`);
  expect(conversation.body.counts.customer).toBe(1);
});
