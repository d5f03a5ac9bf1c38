/**
 * Hostile input against every route of the API (ROUTES, which the OpenAPI test keeps equal to the
 * express app's routes, so a new route is attacked here without a line added): forged, missing and
 * truncated credentials and signatures, malformed and oversized bodies, deep nesting, huge arrays,
 * `__proto__` keys, NUL characters, wrong types, bad phone numbers, ids with path characters, odd
 * queries and methods. Every one must get a 4xx JSON error `{ error: { code, message } }`, never a
 * 5xx, and change nothing; except that a correctly signed webhook whose body is JSON is never
 * refused for its shape: it is answered 200, kept, and its hostile parts set aside (only the valid
 * message beside them may be applied, once). A replayed webhook or send is recorded once. Real
 * Temporal (dev server), real HTTP, real signatures.
 */
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { ROUTES, type RouteDoc } from '../../api/openapi/document';
import { signWebhook } from '../../api/webhooks/signature';
import { API_KEY, startHarness, type Harness } from '../helpers/harness';
import { onboardToActive } from '../helpers/onboard';
import { customerMessagesEnvelope, customerText } from '../helpers/webhooks';
import { eventually } from '../helpers/wait';

let h: Harness;
const phone = '+15550300001';
const waId = '16505550301';
let phoneNumberId: string;
let wabaId: string;
let opsToken: string;

interface Attempt {
  name: string;
  method: string;
  /** Already encoded as it goes on the wire. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** A correctly signed JSON webhook: kept (200, its hostile parts set aside) rather than refused. */
  keptIfSigned?: true;
}

const tally = { tried: 0, rejected: 0, kept: 0, serverErrors: 0 };
const byStatus = new Map<number, number>();

/** Sends it as given (raw HTTP: no path normalisation); a failure is returned as text (4xx JSON error expected). */
async function attempt(a: Attempt): Promise<string | undefined> {
  tally.tried++;
  const response = await send(a);
  const text = response.text;
  byStatus.set(response.status, (byStatus.get(response.status) ?? 0) + 1);
  if (response.status >= 500) tally.serverErrors++;
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const clear =
    response.status >= 400 &&
    response.status < 500 &&
    typeof body?.error?.code === 'string' &&
    typeof body.error.message === 'string';
  if (clear) {
    tally.rejected++;
    return undefined;
  }
  const kept =
    a.keptIfSigned &&
    response.status === 200 &&
    typeof body?.received === 'number' &&
    typeof body.queued === 'number' &&
    Array.isArray(body.unrouted);
  if (kept) {
    tally.kept++;
    return undefined;
  }
  return `${a.name}: ${a.method} ${a.path.slice(0, 120)} → ${response.status} ${text.slice(0, 200)}`;
}

function send(a: Attempt): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(h.apiUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname, port, method: a.method, path: a.path, headers: { ...a.headers, connection: 'close' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    // The server may answer (413, 401) and close before a big body is all sent.
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err),
    );
    req.end(a.body);
  });
}

async function attemptAll(attempts: Attempt[]): Promise<void> {
  const failures: string[] = [];
  for (const a of attempts) {
    const failure = await attempt(a);
    if (failure) failures.push(failure);
  }
  expect(failures).toEqual([]);
  // Still serving after each batch.
  expect((await fetch(`${h.apiUrl}/health`)).status).toBe(200);
}

const params = (): Record<string, string> => ({ phoneNumber: phone, phoneNumberId, waId });
const pathOf = (route: RouteDoc, overrides: Record<string, string> = {}) =>
  route.path.replace(/:(\w+)/g, (_m, name: string) => overrides[name] ?? encodeURIComponent(params()[name]!));

/** A valid body for every route that takes one: each attack below changes one thing of it. */
function validBody(route: RouteDoc): unknown {
  const bodies: Record<string, unknown> = {
    startOnboarding: { phoneNumber: '+15550300002' },
    reportPrerequisites: { appVersion: '2.25.1', hasBusinessPortfolio: true, connectedElsewhere: false },
    reportSignup: { event: 'FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING', code: 'signup-code', data: { waba_id: '123456' } },
    sendOnboardingEvent: { type: 'refreshStatusCard' },
    sendMessage: { clientMessageId: 'hostile-1', message: { type: 'text', text: { body: 'Hello there' } } },
    repairOnboarding: { action: 'refreshStatusCard' },
    replayQuarantine: { ids: ['1'] },
    encodePayloads: {
      payloads: [
        { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('{}').toString('base64') },
      ],
    },
    decodePayloads: {
      payloads: [
        { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('{}').toString('base64') },
      ],
    },
    receiveMetaWebhook: customerMessage('wamid.hostile-template', 'Is it in stock?'),
  };
  const body = bodies[route.operationId];
  if (body === undefined) throw new Error(`${route.operationId} takes a body: give it a valid one in validBody()`);
  return body;
}

const customerMessage = (wamid: string, text: string) =>
  customerMessagesEnvelope(
    { wabaId, phoneNumberId, display: phone.slice(1) },
    waId,
    [customerText(waId, wamid, text)],
    'Hostile',
  );

/** Valid credentials of the route (for a signed route: the signature of this body). */
function credentials(route: RouteDoc, body: string | Buffer = ''): Record<string, string> {
  switch (route.auth) {
    case 'backend':
      return { 'x-api-key': API_KEY };
    case 'ops':
      return { authorization: `Bearer ${opsToken}` };
    case 'metaSignature':
      return { 'x-hub-signature-256': signWebhook(body, h.config.META_APP_SECRET) };
    case 'none':
      return {};
  }
}

/** A request with this body text that gets past authentication (signed when the route is). */
function withBody(route: RouteDoc, name: string, body: string | Buffer, headers: Record<string, string> = {}): Attempt {
  const all = { 'content-type': 'application/json', ...credentials(route, body), ...headers };
  const signedJson =
    route.auth === 'metaSignature' && all['content-type'] === 'application/json' && !('content-encoding' in all) && isJson(body);
  return {
    name,
    method: route.method.toUpperCase(),
    path: pathOf(route),
    headers: all,
    body,
    ...(signedJson ? { keptIfSigned: true } : {}),
  };
}

function isJson(body: string | Buffer): boolean {
  try {
    JSON.parse(body.toString());
    return true;
  } catch {
    return false;
  }
}

/** What the world looks like: workflows, the onboarding's timeline, messages, kept webhooks, sends. */
async function world() {
  const workflows: string[] = [];
  for await (const e of h.env.client.workflow.list()) workflows.push(`${e.workflowId} ${e.status.name}`);
  const onboarding = (await h.api('GET', `/onboardings/${phone}`)).body;
  const messages = (await h.api('GET', `/numbers/${phoneNumberId}/conversations/${waId}/messages?limit=200`)).body.messages;
  return {
    workflows: workflows.sort(),
    timeline: onboarding.timeline.length,
    stage: onboarding.stage,
    messages: messages.map((m: any) => m.id ?? m.clientMessageId).sort(),
    unrouted: (await h.store.listUnroutedWebhooks(1000)).length,
    sent: (await h.sim('GET', `/numbers/${phone}/sent`)).body.sent.length,
    prototype: Object.getOwnPropertyNames(Object.prototype).sort(),
  };
}

let before: Awaited<ReturnType<typeof world>>;

beforeAll(async () => {
  h = await startHarness();
  opsToken = h.config.OPS_TOKENS[0]!.token;
  ({ phoneNumberId, wabaId } = await onboardToActive(h, phone));
  await h.sim('POST', `/numbers/${phone}/customers/${waId}/messages`, { text: 'Hello, anyone there?' });
  await eventually(
    () => h.api('GET', `/numbers/${phoneNumberId}/conversations/${waId}/messages`),
    (r) => r.status === 200 && r.body.messages.length === 1,
  );
  before = await world();
}, 300_000);

afterAll(async () => {
  const statuses = [...byStatus]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s}×${n}`)
    .join(' ');
  console.log(
    `hostile input: ${tally.tried} tried, ${tally.rejected} rejected with a 4xx JSON error, ${tally.kept} signed webhooks kept aside, ${tally.serverErrors} 5xx (${statuses}) on ${ROUTES.length} routes`,
  );
  await h?.stop();
});

const guarded = ROUTES.filter((r) => r.auth !== 'none');
const withBodies = ROUTES.filter((r) => r.body);

test('missing, wrong and truncated credentials: 401 on every guarded route', async () => {
  const attempts: Attempt[] = [];
  for (const route of guarded) {
    const body = route.body ? JSON.stringify(validBody(route)) : undefined;
    const base = { method: route.method.toUpperCase(), path: pathOf(route), ...(body !== undefined ? { body } : {}) };
    const json: Record<string, string> = body !== undefined ? { 'content-type': 'application/json' } : {};
    const [header, value] = Object.entries(credentials(route, body))[0]!;
    attempts.push(
      { ...base, name: 'no credentials', headers: json },
      { ...base, name: 'wrong credentials', headers: { ...json, [header]: value.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')) } },
      { ...base, name: 'truncated credentials', headers: { ...json, [header]: value.slice(0, -1) } },
      { ...base, name: 'empty credentials', headers: { ...json, [header]: route.auth === 'ops' ? 'Bearer ' : '' } },
    );
    if (route.auth !== 'metaSignature') {
      // The other kind of credential: the backend key is no ops token and the reverse.
      const other: Record<string, string> =
        route.auth === 'ops' ? { 'x-api-key': API_KEY } : { authorization: `Bearer ${opsToken}` };
      attempts.push({ ...base, name: 'the other credential', headers: { ...json, ...other } });
    }
  }
  const webhook = ROUTES.find((r) => r.auth === 'metaSignature')!;
  const body = JSON.stringify(validBody(webhook));
  const secret = h.config.META_APP_SECRET;
  const forged = (name: string, signature: string, sent = body): Attempt => ({
    name,
    method: 'POST',
    path: webhook.path,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
    body: sent,
  });
  attempts.push(
    forged('signature over re-serialized JSON', signWebhook(JSON.stringify(JSON.parse(body), null, 2), secret)),
    forged('signature of another body', signWebhook(JSON.stringify(customerMessage('wamid.other', 'x')), secret)),
    forged('signature with another secret', signWebhook(body, `${secret}x`)),
    forged('sha1 signature', `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`),
    forged('signature without its prefix', signWebhook(body, secret).slice('sha256='.length)),
    forged('signature in upper case', `sha256=${signWebhook(body, secret).slice(7).toUpperCase()}`),
    forged('signature of the empty body', signWebhook('', secret)),
    forged('signature of a prefix of the body', signWebhook(body.slice(0, -1), secret)),
    forged('a body longer than what was signed', signWebhook(body, secret), `${body} `),
  );
  await attemptAll(attempts);
});

test('malformed, mistyped, oversized and odd bodies: 4xx on every route that takes one', async () => {
  const attempts: Attempt[] = [];
  for (const route of withBodies) {
    const valid = validBody(route) as Record<string, unknown>;
    const text = JSON.stringify(valid);
    attempts.push(
      withBody(route, 'invalid JSON', text.slice(0, -1)),
      withBody(route, 'not JSON at all', 'phoneNumber=+15550300009'),
      withBody(route, 'empty body', ''),
      withBody(route, 'JSON null', 'null'),
      withBody(route, 'a JSON string', '"hello"'),
      withBody(route, 'a JSON number', '42'),
      withBody(route, 'a JSON array', `[${text}]`),
      withBody(route, 'an empty object', '{}'),
      withBody(route, 'text/plain content type', text, { 'content-type': 'text/plain' }),
      withBody(route, 'form content type', text, { 'content-type': 'application/x-www-form-urlencoded' }),
      withBody(route, 'no content type', text, { 'content-type': '' }),
      withBody(route, 'an unknown charset', text, { 'content-type': 'application/json; charset=klingon' }),
      withBody(route, 'a gzip body that is not gzip', text, { 'content-encoding': 'gzip' }),
      withBody(route, 'over 10 MB (every limit)', Buffer.alloc(10 * 1024 * 1024 + 1, 0x20)),
      withBody(route, '__proto__ key', `{"__proto__":{"polluted":"yes"},${text.slice(1)}`),
      withBody(
        route,
        'nested __proto__ key',
        JSON.stringify({ ...valid, x: { y: JSON.parse('{"__proto__":{"polluted":"yes"}}') } }),
      ),
      withBody(route, 'deep nesting (5000 levels)', `{"deep":${'['.repeat(5000)}${']'.repeat(5000)},${text.slice(1)}`),
      withBody(route, 'deep nesting in a value (100 levels)', JSON.stringify({ ...valid, x: nest(100) })),
      withBody(route, 'NUL in a key', JSON.stringify({ ...valid, ['a\u0000b']: 1 })),
      withBody(
        route,
        'a duplicated key with a bad value last',
        `${text.slice(0, -1)},${JSON.stringify(Object.keys(valid)[0]!)}:{"x":[1]}}`,
      ),
    );
    if (route.auth !== 'metaSignature') {
      // Unknown fields are refused by the strict request schemas; Meta's webhooks may carry new ones.
      attempts.push(withBody(route, 'an unknown field', JSON.stringify({ ...valid, unexpected: true })));
      attempts.push(
        withBody(route, 'constructor.prototype', JSON.stringify({ ...valid, constructor: { prototype: { polluted: 'yes' } } })),
      );
      attempts.push(withBody(route, 'a huge array (20000 items)', JSON.stringify({ ...valid, huge: new Array(20000).fill(0) })));
      // Bytes that are not UTF-8 inside a string: refused, never decoded into U+FFFD.
      attempts.push(
        withBody(
          route,
          'a byte that is not UTF-8',
          Buffer.concat([Buffer.from(text.slice(0, -2)), Buffer.from([0xc3, 0x28]), Buffer.from(text.slice(-2))]),
        ),
      );
    }
    if (route.idempotent) {
      for (const [kind, key] of [
        ['empty', ''],
        ['too long', 'k'.repeat(256)],
        ['with a space', 'a key'],
        ['non-ASCII', 'clé'],
      ]) {
        // Latin-1 on the wire, as a careless client would send it.
        attempts.push(
          withBody(route, `an Idempotency-Key ${kind}`, text, {
            'idempotency-key': Buffer.from(key!, 'latin1').toString('binary'),
          }),
        );
      }
    }
    // Every field of the valid body, one at a time: NUL inside, the wrong type, look-alike digits.
    const skip = route.auth === 'metaSignature' ? (path: string[]) => path.includes('value') : () => false;
    for (const { path, value } of leaves(valid).filter((l) => !skip(l.path))) {
      const at = path.join('.');
      const variants: [string, unknown][] =
        typeof value === 'string'
          ? [
              ['NUL', `${value}\u0000`],
              ['a number', 42],
              ['an array', [value]],
              ['null', null],
              ...(/\d/.test(value) && route.auth !== 'metaSignature'
                ? ([['full-width digits', fullWidth(value)]] as [string, unknown][])
                : []),
            ]
          : typeof value === 'number'
            ? [
                ['a string', String(value)],
                ['an object', { value }],
              ]
            : [
                ['a string', String(value)],
                ['a number', 1],
              ];
      for (const [kind, replacement] of variants)
        attempts.push(withBody(route, `${at} as ${kind}`, JSON.stringify(setAt(valid, path, replacement))));
    }
  }
  const webhook = ROUTES.find((r) => r.auth === 'metaSignature')!;
  const entries = (n: number) =>
    JSON.stringify({ object: 'whatsapp_business_account', entry: new Array(n).fill({ id: '1', changes: [] }) });
  attempts.push(
    withBody(webhook, 'a webhook of 100000 entries', entries(100_000)),
    withBody(
      webhook,
      'a webhook with 100000 changes',
      JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [{ id: '1', changes: new Array(100_000).fill({ field: 'x', value: 1 }) }],
      }),
    ),
    withBody(
      webhook,
      'deep nesting in a change value (20000 levels)',
      `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":${'['.repeat(20000)}${']'.repeat(20000)}}]}]}`,
    ),
    withBody(webhook, 'NUL in a message text', JSON.stringify(customerMessage('wamid.nul', 'in\u0000stock?'))),
    withBody(
      webhook,
      'NUL as an escape in the raw bytes',
      JSON.stringify(customerMessage('wamid.nul2', 'x')).replace('"x"', '"\\u0000"'),
    ),
  );
  await attemptAll(attempts);
});

test('bad phone numbers and ids with path characters: 4xx on every route with a path parameter', async () => {
  const hostileIds = [
    '..',
    '../..',
    '../../etc/passwd',
    '..\\..\\windows',
    '%2e%2e',
    '/',
    '\\',
    ' ',
    '\u0000',
    '\u202e15550300001',
    '+1555\n0300001',
    '+15550300001;ls',
    '+15550300001/../+15550300002',
    '+１５５５０３００００１',
    '١٥٥٥٠٣٠٠٠٠١',
    '+',
    '0',
    '+0',
    '-1',
    '1e5',
    '+15550300001 ',
    'x'.repeat(5000),
    '😀',
    '__proto__',
    'constructor',
    'null',
    'undefined',
    '[object Object]',
    "' OR '1'='1",
    '<script>',
    '${phone}',
  ];
  const rawIds = ['%', '%E0%A4%A', '%zz', '%C0%AF', '%FF%FE'];
  const attempts: Attempt[] = [];
  for (const route of ROUTES.filter((r) => r.params)) {
    const body = route.body ? JSON.stringify(validBody(route)) : undefined;
    for (const name of Object.keys(route.params!.shape)) {
      for (const [label, encoded] of [
        ...hostileIds.map((id) => [JSON.stringify(id).slice(0, 40), encodeURIComponent(id)]),
        ...rawIds.map((id) => [`raw ${id}`, id]),
      ] as [string, string][]) {
        attempts.push({
          name: `${name} = ${label}`,
          method: route.method.toUpperCase(),
          path: pathOf(route, { [name]: encoded }),
          headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...credentials(route, body) },
          ...(body !== undefined ? { body } : {}),
        });
      }
    }
  }
  await attemptAll(attempts);
});

test('odd queries and methods: 4xx on every route', async () => {
  const attempts: Attempt[] = [];
  for (const route of ROUTES) {
    const base = { path: pathOf(route), headers: credentials(route) };
    // Methods the route does not have (same path): 405 with Allow, as JSON.
    for (const method of ['PUT', 'PATCH', 'DELETE'])
      attempts.push({ ...base, name: `${method} on a ${route.method.toUpperCase()} route`, method });
    if (!route.query) continue;
    const required =
      route.operationId === 'verifyMetaWebhook'
        ? `hub.mode=subscribe&hub.verify_token=${h.config.META_WEBHOOK_VERIFY_TOKEN}&hub.challenge=1&`
        : '';
    const queries = [
      'nope=1',
      '__proto__=1',
      'constructor[prototype][x]=1',
      'limit=-1',
      'limit=abc',
      'limit=1e400',
      'limit=1.5',
      'limit[]=1',
      'limit=1&limit=2',
      `cursor=${'x'.repeat(600)}`,
      'cursor=%00',
      'order=DESC',
      'stage=__proto__',
      'stuck=maybe',
      'pageToken=%00',
      'pageToken=!!',
      `pageToken=${'A'.repeat(2001)}`,
      'blockedReason=%27%20OR%201%3D1',
      'pageToken=AAAA',
    ];
    for (const q of queries) {
      const key = q.split('=')[0]!.replace(/\[.*$/, '');
      // Only what this route's query has; unknown names where the query is strict (Meta's handshake is not).
      const unknown = ['nope', '__proto__', 'constructor'].includes(key);
      if (unknown ? route.operationId === 'verifyMetaWebhook' : !(key in route.query.shape)) continue;
      attempts.push({
        ...base,
        name: `?${q.slice(0, 40)}`,
        method: route.method.toUpperCase(),
        path: `${base.path}?${required}${q}`,
      });
    }
    if (route.operationId === 'verifyMetaWebhook') {
      for (const q of [
        'hub.mode=unsubscribe&hub.verify_token=x&hub.challenge=1',
        `hub.mode=subscribe&hub.verify_token=${h.config.META_WEBHOOK_VERIFY_TOKEN}`,
        `hub.mode=subscribe&hub.verify_token=${h.config.META_WEBHOOK_VERIFY_TOKEN}&hub.challenge=${'9'.repeat(201)}`,
        'hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1',
      ]) {
        attempts.push({ ...base, name: `handshake ${q.slice(0, 50)}`, method: 'GET', path: `${base.path}?${q}` });
      }
    }
  }
  await attemptAll(attempts);
});

test('nothing changed: workflows, the onboarding, messages, sends, Object.prototype; the hostile webhooks are kept aside', async () => {
  // Everything the hostile webhooks left in the inbox dispatched first.
  await eventually(
    () => h.store.inboxDepth(),
    (d) => d.pending === 0,
    { timeoutMs: 120_000 },
  );
  const after = await world();
  // The valid message beside a hostile part (a top-level __proto__ key, entry.time as a string, ...) is applied, once.
  expect(after.messages.filter((m: string) => m === 'wamid.hostile-template').length).toBeLessThanOrEqual(1);
  expect(after.unrouted).toBeGreaterThan(before.unrouted);
  expect({
    ...after,
    messages: after.messages.filter((m: string) => m !== 'wamid.hostile-template'),
    unrouted: before.unrouted,
  }).toEqual(before);
  before = after;
});

test('a replayed webhook (same signed bytes) and a replayed send are recorded once', async () => {
  const webhook = ROUTES.find((r) => r.auth === 'metaSignature')!;
  const body = JSON.stringify(customerMessage('wamid.hostile-replayed', 'Replayed: is it in stock?'));
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${h.apiUrl}${webhook.path}`, {
      method: 'POST',
      headers: withBody(webhook, 'replay', body).headers,
      body,
    });
    expect(res.status).toBe(200);
  }
  const sent = { clientMessageId: 'hostile-replayed-send', message: { type: 'text', text: { body: 'Yes, it is.' } } };
  for (let i = 0; i < 3; i++)
    expect((await h.api('POST', `/numbers/${phoneNumberId}/conversations/${waId}/messages`, sent)).status).toBe(202);

  const messages = await eventually(
    async () => (await h.api('GET', `/numbers/${phoneNumberId}/conversations/${waId}/messages?limit=200`)).body.messages as any[],
    (m) =>
      m.length === before.messages.length + 2 &&
      m.some((x) => x.clientMessageId === sent.clientMessageId && x.status !== 'queued'),
  );
  expect(messages.filter((m) => m.id === 'wamid.hostile-replayed')).toHaveLength(1);
  expect(messages.filter((m) => m.clientMessageId === sent.clientMessageId)).toHaveLength(1);
  const after = await world();
  expect(after.sent).toBe(before.sent + 1);
  // The one send started the number's sender; nothing else is new.
  expect(after.workflows.filter((w) => !before.workflows.includes(w))).toEqual([`sender:${phoneNumberId} RUNNING`]);
});

/** `{ x: { x: ... } }`, n levels. */
function nest(n: number): unknown {
  let node: unknown = 1;
  for (let i = 0; i < n; i++) node = { x: node };
  return node;
}

function leaves(value: unknown, path: string[] = []): { path: string[]; value: unknown }[] {
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
  return [{ path, value }];
}

function setAt(value: unknown, path: string[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy: any = Array.isArray(value) ? [...value] : { ...(value as object) };
  copy[path[0]!] = setAt(copy[path[0]!], path.slice(1), replacement);
  return copy;
}

const fullWidth = (s: string) => s.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)));
