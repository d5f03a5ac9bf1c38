/**
 * The API's answers to bad input: a clear JSON error (status, code, message, field) and nothing
 * changed. Real Temporal, real HTTP, real signatures.
 */
import { signWebhook } from '../../api/webhooks/signature';
import { API_KEY, startHarness, type Harness } from '../helpers/harness';

let h: Harness;
const phone = '+15550199001';

beforeAll(async () => {
  h = await startHarness();
  await h.api('POST', '/onboardings', { phoneNumber: phone });
});

afterAll(async () => {
  await h?.stop();
});

async function raw(path: string, init: RequestInit) {
  const response = await fetch(`${h.apiUrl}${path}`, init);
  return {
    status: response.status,
    body: (await response.json()) as { error: { code: string; message: string; field?: string } },
  };
}

test('starting twice for one number answers with the same onboarding', async () => {
  const again = await h.api('POST', '/onboardings', { phoneNumber: phone });
  expect(again.status).toBe(200);
  expect(again.body.id).toBe(`onboarding:${phone}`);
});

test.each([
  ['a phone number that is not E.164', { phoneNumber: '5550199001' }, 'body.phoneNumber'],
  ['an unknown field', { phoneNumber: phone, extra: true }, 'body.extra'],
  ['a setting out of range', { phoneNumber: phone, settings: { maxLinkingAttempts: 0 } }, 'body.settings.maxLinkingAttempts'],
])('400 for %s, naming the field', async (_name, body, field) => {
  const res = await h.api('POST', '/onboardings', body);
  expect(res.status).toBe(400);
  expect(res.body.error).toMatchObject({ code: 'invalid_request', field });
});

test('401 without the backend API key, 415 for a body that is not JSON, 400 for broken JSON', async () => {
  const noKey = await raw('/onboardings', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expect(noKey.status).toBe(401);
  expect(noKey.body.error.field).toBe('headers.x-api-key');

  const text = await raw('/onboardings', {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'x-api-key': API_KEY },
    body: 'hi',
  });
  expect(text.status).toBe(415);

  const broken = await raw('/onboardings', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: '{"phoneNumber":',
  });
  expect(broken.status).toBe(400);
  expect(broken.body.error.code).toBe('invalid_json');
});

test('404 for an unknown onboarding or route', async () => {
  expect((await h.api('GET', '/onboardings/+15550199999')).status).toBe(404);
  expect((await h.api('POST', '/onboardings/+15550199999/events', { type: 'retry' })).status).toBe(404);
  expect((await h.api('GET', '/nowhere')).body.error.code).toBe('not_found');
});

test('409 with the reason for an event the state cannot take, and nothing changes', async () => {
  const before = (await h.api('GET', `/onboardings/${phone}`)).body;
  const refused = await h.api('POST', `/onboardings/${phone}/events`, { type: 'qrScanned' });
  expect(refused.status).toBe(409);
  expect(refused.body.error).toMatchObject({
    code: 'event_refused',
    message: expect.stringMatching(/prerequisites cannot take linking\.confirmed/),
  });
  const after = (await h.api('GET', `/onboardings/${phone}`)).body;
  expect(after.timeline).toEqual(before.timeline);
  expect(after.state).toBe('prerequisites');
});

test('an unknown user event type is a 400 naming body.type', async () => {
  const res = await h.api('POST', `/onboardings/${phone}/events`, { type: 'dance' });
  expect(res.status).toBe(400);
  expect(res.body.error.field).toBe('body.type');
});

test('webhooks: the verification handshake answers the challenge only for our token', async () => {
  const ok = await fetch(
    `${h.apiUrl}/webhooks/meta?hub.mode=subscribe&hub.verify_token=${h.config.META_WEBHOOK_VERIFY_TOKEN}&hub.challenge=1158201444`,
  );
  expect(ok.status).toBe(200);
  expect(await ok.text()).toBe('1158201444');
  const wrong = await fetch(`${h.apiUrl}/webhooks/meta?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`);
  expect(wrong.status).toBe(403);
});

test('webhooks: a missing or wrong signature is 401 and nothing is delivered', async () => {
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '1',
        time: 1,
        changes: [{ field: 'account_update', value: { phone_number: phone.slice(1), event: 'PARTNER_REMOVED' } }],
      },
    ],
  });
  const post = (headers: Record<string, string>) =>
    raw('/webhooks/meta', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  expect((await post({})).status).toBe(401);
  expect((await post({ 'x-hub-signature-256': signWebhook(body, 'another-secret') })).status).toBe(401);
  // Signed over re-serialised JSON rather than the bytes sent.
  expect(
    (await post({ 'x-hub-signature-256': signWebhook(JSON.stringify(JSON.parse(body), null, 1), h.config.META_APP_SECRET) }))
      .status,
  ).toBe(401);
  expect((await h.api('GET', `/onboardings/${phone}`)).body.timeline).toEqual([]);

  const signed = await post({ 'x-hub-signature-256': signWebhook(body, h.config.META_APP_SECRET) });
  expect(signed.status).toBe(200);
});

test('webhooks: an unknown field is kept and classified, never a 5xx', async () => {
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: '1', time: 1, changes: [{ field: 'brand_new_field', value: { x: 1 } }] }],
  });
  const res = await fetch(`${h.apiUrl}/webhooks/meta`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhook(body, h.config.META_APP_SECRET) },
    body,
  });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ unrouted: ['field:brand_new_field'] });
  const [kept] = await h.store.listUnroutedWebhooks(1);
  expect(kept).toMatchObject({ classifications: ['field:brand_new_field'], body: JSON.parse(body) });
});

test('webhooks: phone-app contacts (smb_app_state_sync) are parsed, classified by action and kept', async () => {
  const metadata = { display_phone_number: '15550783881', phone_number_id: '106540352242922' };
  const contact = {
    type: 'contact',
    action: 'add',
    contact: { full_name: 'Pablo Morales', phone_number: '16505551234' },
    metadata: { timestamp: '1739321024' },
  };
  const post = async (value: unknown) => {
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: '1', time: 1, changes: [{ field: 'smb_app_state_sync', value }] }],
    });
    const res = await fetch(`${h.apiUrl}/webhooks/meta`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhook(body, h.config.META_APP_SECRET) },
      body,
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { unrouted: string[] }).unrouted;
  };
  expect(
    await post({ messaging_product: 'whatsapp', metadata, state_sync: [contact, { ...contact, action: 'remove' }] }),
  ).toEqual(['smb_app_state_sync:contact:add', 'smb_app_state_sync:contact:remove']);
  expect(await post({ metadata, state_sync: 'not a list' })).toEqual(['smb_app_state_sync:malformed']);
  const [latest] = await h.store.listUnroutedWebhooks(1);
  expect(latest!.classifications).toEqual(['smb_app_state_sync:malformed']);
});
