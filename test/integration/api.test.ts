/**
 * The API's answers to bad input: a clear JSON error (status, code, message, field) and nothing
 * changed. Real Temporal, real HTTP, real signatures.
 */
import { signWebhook } from '../../api/webhooks/signature';
import { API_KEY, startHarness, type Harness } from '../helpers/harness';
import { registerNumber } from '../helpers/register';

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
  ['a phone number without its country code', { phoneNumber: '(555) 019-9001' }, 'body.phoneNumber'],
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

test('webhooks: phone-app contacts (smb_app_state_sync) go to the contact book; a malformed change is kept', async () => {
  const metadata = { display_phone_number: '15550783881', phone_number_id: '106540352242922' };
  // The number as its onboarding registers it, under the WABA the entries name.
  await registerNumber(h.store, { phoneNumberId: metadata.phone_number_id, wabaId: '1', display: metadata.display_phone_number });
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
  ).toEqual([]);
  const book = await h.store.listContacts({ phoneNumberId: metadata.phone_number_id, removed: 'only', limit: 10 });
  expect(book.contacts).toEqual([
    expect.objectContaining({ phoneNumber: '16505551234', fullName: 'Pablo Morales', inApp: false, removedAt: 1739321024000 }),
  ]);
  expect(await post({ metadata, state_sync: 'not a list' })).toEqual(['smb_app_state_sync:malformed']);
  const [latest] = await h.store.listUnroutedWebhooks(1);
  expect(latest!.classifications).toEqual(['smb_app_state_sync:malformed']);
});

// --- HTTP hygiene (issue 22) -------------------------------------------------------------------

const handshake = (query: string) => fetch(`${h.apiUrl}/webhooks/meta?${query}`);

test('webhooks: anything but the exact verification handshake is 403; the challenge is echoed as text/plain with nosniff', async () => {
  const token = encodeURIComponent(h.config.META_WEBHOOK_VERIFY_TOKEN);
  const good = `hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=`;
  const challenge = '<script>alert(1)</script>';
  const ok = await handshake(`${good}${encodeURIComponent(challenge)}`);
  expect(ok.status).toBe(200);
  expect(await ok.text()).toBe(challenge);
  expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
  expect(ok.headers.get('x-content-type-options')).toBe('nosniff');

  for (const [name, query, field] of [
    ['a wrong hub.mode', `hub.mode=unsubscribe&hub.verify_token=${token}&hub.challenge=1`, 'query.hub.mode'],
    ['no hub.mode', `hub.verify_token=${token}&hub.challenge=1`, 'query.hub.mode'],
    ['no hub.challenge', `hub.mode=subscribe&hub.verify_token=${token}`, 'query.hub.challenge'],
    ['no hub.verify_token', 'hub.mode=subscribe&hub.challenge=1', 'query.hub.verify_token'],
    ['a repeated hub.challenge', `${good}1&hub.challenge=2`, 'query.hub.challenge'],
    ['a repeated hub.mode', `hub.mode=subscribe&${good}1`, 'query.hub.mode'],
    ['a bracketed hub.mode', `hub.mode[]=subscribe&hub.verify_token=${token}&hub.challenge=1`, 'query.hub.mode[]'],
    ['a bracketed extra parameter', `${good}1&hub.challenge[x]=2`, 'query.hub.challenge[x]'],
    ['a challenge over 200 characters', `${good}${'9'.repeat(201)}`, 'query.hub.challenge'],
    ['a wrong verify token', 'hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1', 'query.hub.verify_token'],
  ]) {
    const res = await handshake(query!);
    const body = (await res.json()) as { error: { code: string; field?: string } };
    expect({ name, status: res.status, code: body.error.code, field: body.error.field }).toEqual({
      name,
      status: 403,
      code: 'forbidden',
      field,
    });
  }
});

test('a method a path does not have is 405 with Allow, before any key or body is asked for', async () => {
  for (const [method, path, allow] of [
    ['GET', '/onboardings', 'POST'],
    ['DELETE', '/onboardings', 'POST'],
    ['POST', `/onboardings/${phone}`, 'GET, HEAD'],
    ['PUT', `/onboardings/${phone}/events`, 'POST'],
    ['DELETE', '/numbers/106540352242922/conversations/16505551234/messages', 'GET, HEAD, POST'],
    ['POST', '/health', 'GET, HEAD'],
    ['POST', '/ops', 'GET, HEAD'],
    ['GET', '/codec/decode', 'POST'],
    ['PATCH', '/webhooks/meta', 'GET, HEAD, POST'],
  ] as const) {
    const res = await fetch(`${h.apiUrl}${path}`, { method });
    const body = (await res.json()) as { error: { code: string } };
    expect({ method, path, status: res.status, allow: res.headers.get('allow'), code: body.error.code }).toEqual({
      method,
      path,
      status: 405,
      allow,
      code: 'method_not_allowed',
    });
  }
  // The path's own method still passes on to the route (here: its key check).
  expect((await fetch(`${h.apiUrl}/onboardings`, { method: 'POST' })).status).toBe(401);
});

test('security headers on the API, the ops page and /docs; each page with its own content security policy', async () => {
  const common = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };
  const headersOf = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${h.apiUrl}${path}`, init);
    await res.arrayBuffer();
    return { status: res.status, headers: Object.fromEntries(res.headers) };
  };
  const nothing = "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'";
  for (const [path, init] of [
    ['/health', {}],
    ['/onboardings/+15550199999', { headers: { 'x-api-key': API_KEY } }],
    ['/nowhere', {}],
  ] as const) {
    const { headers } = await headersOf(path, init);
    expect(headers).toMatchObject({ ...common, 'content-security-policy': nothing });
    expect(headers['strict-transport-security']).toMatch(/^max-age=\d+/);
  }
  const ops = await headersOf('/ops');
  expect(ops.status).toBe(200);
  expect(ops.headers).toMatchObject(common);
  expect(ops.headers['content-security-policy']!.split(';').sort()).toEqual(
    [...nothing.split(';'), "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self'"].sort(),
  );
  const docs = await headersOf('/docs');
  expect(docs.status).toBe(200);
  expect(docs.headers).toMatchObject(common);
  expect(docs.headers['content-security-policy']!.split(';').sort()).toEqual([...nothing.split(';'), "style-src 'self'"].sort());
});

test('phone numbers are read to E.164 in a body and in a path; a number without its country code is refused with the reason', async () => {
  const forms = ['+1 (555) 019-9101', '0015550199101', '15550199101', '+1 555.019.9101'];
  const answers = [];
  for (const phoneNumber of forms) answers.push(await h.api('POST', '/onboardings', { phoneNumber }));
  expect(answers.map((a) => [a.status, a.body.id, a.body.phoneNumber])).toEqual([
    [201, 'onboarding:+15550199101', '+15550199101'],
    ...forms.slice(1).map(() => [200, 'onboarding:+15550199101', '+15550199101']),
  ]);
  for (const written of forms) {
    const read = await h.api('GET', `/onboardings/${encodeURIComponent(written)}`);
    expect([written, read.status, read.body.id]).toEqual([written, 200, 'onboarding:+15550199101']);
  }
  const inspected = await fetch(`${h.apiUrl}/ops/onboardings/${encodeURIComponent('+1 (555) 019-9101')}`, {
    headers: { authorization: `Bearer ${h.config.OPS_TOKENS[0]!.token}` },
  });
  expect(inspected.status).toBe(200);

  for (const [phoneNumber, reason] of [
    ['(555) 019-9102', /ambiguous without \+ and the country code/],
    ['05550199102', /ambiguous: a national number \(leading 0\)/],
    ['+1555019910', /too short/],
    ['+9991234567', /no known country calling code/],
    ['+1 555 019 9102 ext. 4', /must be a phone number in digits/],
  ] as const) {
    const res = await h.api('POST', '/onboardings', { phoneNumber });
    expect({ phoneNumber, status: res.status, field: res.body.error.field }).toEqual({
      phoneNumber,
      status: 400,
      field: 'body.phoneNumber',
    });
    expect(res.body.error.message).toMatch(reason);
    const inPath = await h.api('GET', `/onboardings/${encodeURIComponent(phoneNumber)}`);
    expect({ phoneNumber, status: inPath.status, field: inPath.body.error.field }).toEqual({
      phoneNumber,
      status: 400,
      field: 'params.phoneNumber',
    });
  }
  expect((await h.api('GET', '/onboardings/+15550199102')).status).toBe(404);
});

/** A backend POST with an Idempotency-Key; the answer's text as sent, and whether it was replayed. */
async function withKey(path: string, key: string, body: unknown) {
  const res = await fetch(`${h.apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'idempotency-key': key },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text), replayed: res.headers.get('idempotent-replayed') };
}

test('Idempotency-Key: a repeat gets the first answer, byte for byte; another request under the key is 409', async () => {
  const number = '+15550199201';
  const key = `start-${Date.now()}`;
  const first = await withKey('/onboardings', key, { phoneNumber: number });
  expect([first.status, first.replayed]).toEqual([201, null]);
  // Without the key a repeat would be 200 (the live onboarding); with it, the first answer again.
  const again = await withKey('/onboardings', key, `{ "phoneNumber" : "${number}" }`);
  expect([again.status, again.replayed, again.text]).toEqual([201, 'true', first.text]);
  expect((await h.api('POST', '/onboardings', { phoneNumber: number })).status).toBe(200);

  const other = await withKey('/onboardings', key, { phoneNumber: '+15550199202' });
  expect([other.status, other.body.error.code, other.body.error.field]).toEqual([
    409,
    'idempotency_key_reused',
    'headers.idempotency-key',
  ]);
  const otherPath = await withKey(`/onboardings/${number}/events`, key, { type: 'cancel' });
  expect([otherPath.status, otherPath.body.error.code]).toEqual([409, 'idempotency_key_reused']);
  expect((await h.api('GET', '/onboardings/+15550199202')).status).toBe(404);

  // An event: the first cancel's answer comes back, where a second cancel would be refused.
  const cancelKey = `cancel-${Date.now()}`;
  const cancelled = await withKey(`/onboardings/${number}/events`, cancelKey, { type: 'cancel' });
  expect(cancelled.status).toBe(200);
  const timeline = cancelled.body.timeline.length;
  const repeat = await withKey(`/onboardings/${number}/events`, cancelKey, { type: 'cancel' });
  expect([repeat.status, repeat.replayed, repeat.text]).toEqual([200, 'true', cancelled.text]);
  expect((await h.api('GET', `/onboardings/${number}`)).body.timeline).toHaveLength(timeline);

  // A refusal is an answer too: kept and replayed.
  const refusedKey = `refused-${Date.now()}`;
  const refused = await withKey(`/onboardings/${number}/events`, refusedKey, { type: 'qrScanned' });
  expect(refused.status).toBe(409);
  expect(await withKey(`/onboardings/${number}/events`, refusedKey, { type: 'qrScanned' })).toMatchObject({
    status: 409,
    replayed: 'true',
    text: refused.text,
  });

  const bad = await withKey('/onboardings', 'x'.repeat(256), { phoneNumber: number });
  expect([bad.status, bad.body.error.field]).toEqual([400, 'headers.idempotency-key']);
});

test('text that is not UTF-8 is refused or kept raw and flagged, never silently changed; another charset is 415', async () => {
  const json = { 'content-type': 'application/json', 'x-api-key': API_KEY };
  const notUtf8 = Buffer.concat([
    Buffer.from('{"phoneNumber":"+15550199301","settings":{"linkingMethod":"q'),
    Buffer.from([0xff]),
    Buffer.from('r"}}'),
  ]);
  const invalid = await raw('/onboardings', { method: 'POST', headers: json, body: notUtf8 });
  expect([invalid.status, invalid.body.error.code, invalid.body.error.field]).toEqual([400, 'invalid_encoding', 'body']);
  const latin1 = await raw('/onboardings', {
    method: 'POST',
    headers: { ...json, 'content-type': 'application/json; charset=latin1' },
    body: Buffer.from(JSON.stringify({ phoneNumber: '+15550199301' }), 'latin1'),
  });
  expect([latin1.status, latin1.body.error.code, latin1.body.error.field]).toEqual([
    415,
    'unsupported_encoding',
    'headers.content-type',
  ]);
  expect(latin1.body.error.message).toMatch(/unsupported charset "latin1".*UTF-8/);
  expect((await h.api('GET', '/onboardings/+15550199301')).status).toBe(404);

  // A signed webhook whose bytes are not UTF-8: 200, routed nowhere, kept as sent and flagged.
  const webhook = Buffer.concat([
    Buffer.from(
      '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"display_phone_number":"15550199001","phone_number_id":"106540352242922"},"messages":[{"from":"16505551234","id":"wamid.latin1","timestamp":"1739321024","type":"text","text":{"body":"caf',
    ),
    Buffer.from([0xe9]), // é in latin1
    Buffer.from('"}}]}}]}]}'),
  ]);
  const signed = await fetch(`${h.apiUrl}/webhooks/meta`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhook(webhook, h.config.META_APP_SECRET) },
    body: webhook,
  });
  expect(signed.status).toBe(200);
  expect(await signed.json()).toEqual({ received: 1, queued: 0, unrouted: ['body:invalid_utf8'] });
  const [kept] = await h.store.listUnroutedWebhooks(1);
  expect(kept!.classifications).toEqual(['body:invalid_utf8']);
  expect(Buffer.from((kept!.body as { base64: string }).base64, 'base64').equals(webhook)).toBe(true);
  const declared = await fetch(`${h.apiUrl}/webhooks/meta`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json; charset=latin1',
      'x-hub-signature-256': signWebhook(webhook, h.config.META_APP_SECRET),
    },
    body: webhook,
  });
  expect(declared.status).toBe(415);
});
