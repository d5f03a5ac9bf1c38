/**
 * The OpenAPI document: every route the express app has is described (and nothing else), its
 * schemas are valid JSON Schema 2020-12, and real answers of the running API (real Temporal, the
 * simulator over HTTP) validate against what the document says of their route and status.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import pino from 'pino';
import { createApp } from '../../api/app';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { openApiDocument, openApiPath, ROUTES, type Method, type RouteDoc } from '../../api/openapi/document';
import { curlFor } from '../../api/openapi/page';
import type { OpsOnboardingView } from '../../api/ops/schemas';
import type { OpsOnboarding } from '../../api/ops/presenter';
import { signWebhook } from '../../api/webhooks/signature';
import { API_KEY, startHarness, type Harness } from '../helpers/harness';
import { onboardToActive } from '../helpers/onboard';
import { eventually } from '../helpers/wait';

// The ops route types its answer itself; this is where that type meets the documented one.
export const opsAnswerIsDocumented = (answer: OpsOnboarding): OpsOnboardingView => answer;

const execFileAsync = promisify(execFile);
const doc = openApiDocument();
const DOC_ID = 'coexist-openapi.json';
const ajv = new Ajv2020({ strict: true, allErrors: true });
ajv.addFormat('date-time', { validate: (s: string) => !Number.isNaN(Date.parse(s)) });
ajv.addFormat('uri', { validate: (s: string) => URL.canParse(s) });
// The document is the schemas' root, so that `#/components/schemas/…` resolves as in OpenAPI.
ajv.addVocabulary(['openapi', 'info', 'jsonSchemaDialect', 'paths', 'webhooks', 'components']);
ajv.addSchema(doc as object, DOC_ID);

const pointer = (...parts: string[]) =>
  parts.map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');

/** The document's schema for this route's answer, compiled against the whole document. */
function validatorFor(route: RouteDoc, status: number, mediaType: string): ValidateFunction {
  const path = openApiPath(route.path);
  const response = doc.paths[path]?.[route.method]?.responses[status];
  if (!response?.content?.[mediaType]) throw new Error(`${route.method} ${path} does not document ${status} ${mediaType}`);
  return ajv.getSchema(
    `${DOC_ID}#/${pointer('paths', path, route.method, 'responses', String(status), 'content', mediaType, 'schema')}`,
  )!;
}

function routeOf(method: string, pathname: string): RouteDoc {
  const route = ROUTES.find((r) => r.method === method && new RegExp(`^${r.path.replace(/:\w+/g, '[^/]+')}$`).test(pathname));
  if (!route) throw new Error(`no documented route for ${method} ${pathname}`);
  return route;
}

let h: Harness;
/** `operationId status` of every real answer checked against the document. */
const checked = new Set<string>();

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.stop();
});

/** A request to the running API whose answer must be what the document says of its route and status. */
async function call(
  method: Method,
  path: string,
  { body, headers = { 'x-api-key': API_KEY } }: { body?: unknown; headers?: Record<string, string> } = {},
) {
  const init: RequestInit = { method: method.toUpperCase(), headers };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers = { 'content-type': 'application/json', ...headers };
  }
  const response = await fetch(`${h.apiUrl}${path}`, init);
  const text = await response.text();
  const mediaType = response.headers.get('content-type')?.split(';')[0] ?? '';
  const route = routeOf(method, new URL(path, h.apiUrl).pathname);
  const value: unknown = mediaType === 'application/json' ? JSON.parse(text) : text;
  const validate = validatorFor(route, response.status, mediaType);
  if (!validate(value)) {
    throw new Error(
      `${method} ${path} ${response.status} does not match the document: ${ajv.errorsText(validate.errors)}\n${text.slice(0, 3000)}`,
    );
  }
  checked.add(`${route.operationId} ${response.status}`);
  return { status: response.status, body: value as any };
}

/** The harness with every backend call checked against the document. */
const documented = (): Harness => ({
  ...h,
  api: (method: string, path: string, body?: unknown) => call(method.toLowerCase() as Method, path, { body }),
});

describe('the document', () => {
  test('describes every route the express app has, and no other', () => {
    const app = createApp({ config: h.config, client: h.env.client, store: h.store, log: pino({ level: 'silent' }) });
    expect(appRoutes(app.router.stack as unknown as Layer[]).sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });

  test('is OpenAPI 3.1: path parameters declared, operation ids unique, security schemes defined', () => {
    expect(doc.openapi).toBe('3.1.0');
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.values(methods).map((op) => ({ path, op: op! })),
    );
    expect(operations).toHaveLength(ROUTES.length);
    expect(new Set(operations.map(({ op }) => op.operationId)).size).toBe(operations.length);
    for (const { path, op } of operations) {
      const inTemplate = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = (op.parameters ?? []).filter((p) => p.in === 'path');
      expect({ path, params: declared.map((p) => p.name) }).toEqual({ path, params: inTemplate });
      expect(declared.every((p) => p.required)).toBe(true);
      for (const requirement of op.security ?? [])
        for (const name of Object.keys(requirement)) expect(doc.components.securitySchemes).toHaveProperty(name);
      expect(Object.keys(op.responses).length).toBeGreaterThan(0);
    }
  });

  test('its schemas are valid JSON Schema 2020-12 and every $ref resolves', () => {
    const locations: string[][] = Object.keys(doc.components.schemas).map((name) => ['components', 'schemas', name]);
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const at = ['paths', path, method];
        (op!.parameters ?? []).forEach((_p, i) => locations.push([...at, 'parameters', String(i), 'schema']));
        for (const type of Object.keys(op!.requestBody?.content ?? {}))
          locations.push([...at, 'requestBody', 'content', type, 'schema']);
        for (const [status, r] of Object.entries(op!.responses)) {
          for (const type of Object.keys(r.content ?? {}))
            locations.push([...at, 'responses', status, 'content', type, 'schema']);
        }
      }
    }
    for (const name of Object.keys(doc.webhooks))
      locations.push(['webhooks', name, 'post', 'requestBody', 'content', 'application/json', 'schema']);
    expect(locations.some((l) => l[0] === 'webhooks')).toBe(true);
    for (const location of locations) {
      const schema = location.reduce<any>((node, key) => node[key], doc);
      expect({ location, valid: ajv.validateSchema(schema), errors: ajv.errors ?? null }).toEqual({
        location,
        valid: true,
        errors: null,
      });
      // Compiling resolves every $ref and, in strict mode, refuses unknown keywords and formats.
      expect(ajv.getSchema(`${DOC_ID}#/${pointer(...location)}`)).toBeInstanceOf(Function);
    }
  });

  test('states 405 with Allow on every route, 403 on the handshake, and Idempotency-Key with its 409 on every POST that changes something', () => {
    const idempotent = [
      'startOnboarding',
      'reportPrerequisites',
      'reportSignup',
      'sendOnboardingEvent',
      'sendMessage',
      'repairOnboarding',
      'replayQuarantine',
    ];
    for (const route of ROUTES) {
      const op = doc.paths[openApiPath(route.path)]![route.method]!;
      expect({ op: route.operationId, allow: op.responses[405]?.headers?.Allow?.schema }).toEqual({
        op: route.operationId,
        allow: { type: 'string' },
      });
      const header = (op.parameters ?? []).find((p) => p.in === 'header' && p.name === 'Idempotency-Key');
      expect({ op: route.operationId, header: header !== undefined }).toEqual({
        op: route.operationId,
        header: idempotent.includes(route.operationId),
      });
      if (header) expect(op.responses[409]?.description).toContain('idempotency_key_reused');
    }
    const handshake = doc.paths['/webhooks/meta']!.get!;
    expect(Object.keys(handshake.responses).sort()).toEqual(['200', '403', '405']);
    expect(handshake.responses[403]!.description).toMatch(/missing, repeated or bracketed/);
  });

  test("is served at /openapi.json with the API's own URL as its server, and /docs lists every operation", async () => {
    expect((await call('get', '/openapi.json')).body).toEqual({
      ...JSON.parse(JSON.stringify(doc)),
      servers: [{ url: h.apiUrl, description: 'this API' }],
    });
    const page = (await call('get', '/docs')).body as string;
    for (const route of ROUTES) expect(page).toContain(`id="${route.operationId}"`);
    // Each operation with a curl command against this API, and each body with its example.
    expect(page.match(/<h3>Try it<\/h3><pre class="curl">curl -sS/g)?.length).toBe(ROUTES.length - 1);
    expect(page).toContain(`curl -sS -X POST &#39;${h.apiUrl}/onboardings&#39;`);
    expect(page.match(/<h4>Example<\/h4>/g)?.length).toBe(ROUTES.filter((r) => r.body).length);
  });

  test("the docs page's curl commands work as copied: start an onboarding, deliver a signed webhook", async () => {
    const curls = new Map(
      Object.entries(doc.paths).flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, op]) => [op!.operationId, curlFor(h.apiUrl, path, method, op!)]),
      ),
    );
    const env = {
      PATH: process.env.PATH ?? '',
      BACKEND_API_KEY: API_KEY,
      OPS_TOKEN: h.config.OPS_TOKENS[0]!.token,
      META_APP_SECRET: h.config.META_APP_SECRET,
    };
    // Asynchronously: the API answering them runs in this process.
    const sh = async (script: string) =>
      JSON.parse((await execFileAsync('sh', ['-c', script], { env, encoding: 'utf8', timeout: 60_000 })).stdout);
    expect(await sh(curls.get('startOnboarding')!)).toMatchObject({ phoneNumber: '+15550783881', stage: 'prerequisites' });
    expect(await sh(curls.get('getOnboarding')!)).toMatchObject({ phoneNumber: '+15550783881' });
    expect(await sh(curls.get('receiveMetaWebhook')!)).toMatchObject({ received: 1 });
    expect(await sh(curls.get('listOpsOnboardings')!)).toHaveProperty('onboardings');
  });
});

describe('real answers match their documented schemas', () => {
  const phone = '+15550610001';
  let phoneNumberId: string;

  test('health and metrics', async () => {
    expect((await call('get', '/health')).status).toBe(200);
    expect((await call('get', '/metrics')).body).toMatch(/^# HELP /m);
    expect((await call('get', '/ops', { headers: {} })).status).toBe(200);
    const landing = await call('get', '/', { headers: {} });
    for (const link of ['/docs', '/ops', '/health']) expect(landing.body).toContain(`href="${link}"`);
  });

  test('onboardings: started, read, driven to active; 400, 401, 404, 409, 415', async () => {
    const fresh = '+15550610002';
    expect((await call('post', '/onboardings', { body: { phoneNumber: fresh } })).status).toBe(201);
    expect((await call('post', '/onboardings', { body: { phoneNumber: fresh } })).status).toBe(200);
    expect((await call('get', `/onboardings/${fresh}`)).body.stage).toBe('prerequisites');
    const keyed = { 'x-api-key': API_KEY, 'idempotency-key': `oa-${Date.now()}` };
    const other = '+15550610003';
    expect((await call('post', '/onboardings', { body: { phoneNumber: other }, headers: keyed })).status).toBe(201);
    expect((await call('post', '/onboardings', { body: { phoneNumber: other }, headers: keyed })).status).toBe(201);
    expect((await call('post', '/onboardings', { body: { phoneNumber: fresh }, headers: keyed })).body.error.code).toBe(
      'idempotency_key_reused',
    );
    expect((await call('post', '/onboardings', { body: { phoneNumber: '555' } })).body.error.field).toBe('body.phoneNumber');
    expect((await call('post', '/onboardings', { body: '{"phoneNumber":' })).body.error.code).toBe('invalid_json');
    expect((await call('post', '/onboardings', { body: { phoneNumber: fresh }, headers: {} })).status).toBe(401);
    expect(
      (await call('post', '/onboardings', { body: 'hi', headers: { 'x-api-key': API_KEY, 'content-type': 'text/plain' } }))
        .status,
    ).toBe(415);
    expect((await call('get', '/onboardings/+15550619999')).status).toBe(404);
    expect((await call('post', `/onboardings/${fresh}/events`, { body: { type: 'qrScanned' } })).body.error.code).toBe(
      'event_refused',
    );

    ({ phoneNumberId } = await onboardToActive(documented(), phone));
    const active = await call('get', `/onboardings/${phone}`);
    expect(active.body).toMatchObject({ stage: 'active', registration: { lastCheck: expect.any(Object) } });
  });

  test('conversations: read, messages, sent; 404 and the refusal with its hint', async () => {
    const waId = '16505550601';
    expect((await call('get', `/numbers/${phoneNumberId}/conversations/${waId}`)).status).toBe(404);
    const refused = await call('post', `/numbers/${phoneNumberId}/conversations/${waId}/messages`, {
      body: { clientMessageId: 'oa-1', message: { type: 'text', text: { body: 'Hi' } } },
    });
    expect(refused.body.error).toMatchObject({ code: 'customer_service_window_closed', hint: expect.any(String) });

    await h.sim('POST', `/numbers/${phone}/customers/${waId}/messages`, { text: 'Hello?' });
    await eventually(
      () => call('get', `/numbers/${phoneNumberId}/conversations/${waId}`),
      (r) => r.status === 200 && r.body.customerServiceWindow.status === 'open',
    );
    const sent = await call('post', `/numbers/${phoneNumberId}/conversations/${waId}/messages`, {
      body: { clientMessageId: 'oa-2', message: { type: 'text', text: { body: 'Yes, hello' } } },
    });
    expect(sent.status).toBe(202);
    const page = await eventually(
      () => call('get', `/numbers/${phoneNumberId}/conversations/${waId}/messages?limit=1&order=asc`),
      (r) => r.body.nextCursor !== undefined,
    );
    const next = await eventually(
      () =>
        call('get', `/numbers/${phoneNumberId}/conversations/${waId}/messages?limit=1&order=asc&cursor=${page.body.nextCursor}`),
      (r) => r.body.messages[0]?.pricing?.basis === 'meta',
    );
    expect(next.body.messages[0]).toMatchObject({ clientMessageId: 'oa-2', source: 'platform' });
    expect((await call('get', `/numbers/${phoneNumberId}/conversations/${waId}/messages?limit=0`)).status).toBe(400);
    // The customer's message as the delivery it came in; the platform's send came in none.
    const raw = await call('get', `/numbers/${phoneNumberId}/conversations/${waId}/messages/${page.body.messages[0].id}/raw`);
    expect(raw).toMatchObject({ status: 200, body: { object: 'whatsapp_business_account' } });
    const rawOfSend = await call(
      'get',
      `/numbers/${phoneNumberId}/conversations/${waId}/messages/${next.body.messages[0].id}/raw`,
    );
    expect(rawOfSend).toMatchObject({ status: 404, body: { error: { code: 'raw_not_kept' } } });
    // Every status found its message: no orphans.
    const orphans = await call('get', `/numbers/${phoneNumberId}/conversations/${waId}/orphan-statuses?limit=10`);
    expect(orphans).toMatchObject({ status: 200, body: { statuses: [] } });
    expect((await call('get', `/numbers/${phoneNumberId}/conversations/${waId}/orphan-statuses?limit=0`)).status).toBe(400);
    // The number's conversations: this one, with both directions counted and its window open.
    const listed = await call('get', `/numbers/${phoneNumberId}/conversations?limit=5&window=open`);
    expect(listed).toMatchObject({ status: 200, body: { conversations: [{ waId, lastDirection: expect.any(String) }] } });
    expect(listed.body.conversations[0].inbound).toBeGreaterThan(0);
    expect(listed.body.conversations[0].windowExpiresAt).toBeGreaterThan(Date.now());
    expect((await call('get', `/numbers/${phoneNumberId}/conversations?window=maybe`)).status).toBe(400);
  });

  test('templates: list, refresh; 404 for a number no onboarding holds', async () => {
    await h.sim('PUT', `/numbers/${phone}/templates/order_update`, { language: 'en_US', status: 'APPROVED' });
    expect((await call('post', `/numbers/${phoneNumberId}/templates/refresh`)).body.templates).toBe(1);
    const listed = await call('get', `/numbers/${phoneNumberId}/templates?status=APPROVED`);
    expect(listed.body.templates).toEqual([expect.objectContaining({ name: 'order_update', sendable: true })]);
    expect((await call('get', '/numbers/999999999999/templates')).status).toBe(404);
  });

  test('contacts: the onboarding’s contact sync, searched', async () => {
    const page = await eventually(
      () => call('get', `/numbers/${phoneNumberId}/contacts?search=pablo`),
      (r) => r.body.contacts.length === 1,
    );
    expect(page.body.contacts[0]).toMatchObject({ fullName: 'Pablo Morales', inApp: true });
    expect((await call('get', `/numbers/${phoneNumberId}/contacts?limit=0`)).status).toBe(400);
  });

  test('ops: list, inspect, repair, refuse', async () => {
    const ops = { authorization: `Bearer ${h.config.OPS_TOKENS[0]!.token}` };
    const listed = await eventually(
      () => call('get', '/ops/onboardings?limit=10', { headers: ops }),
      (r) => r.body.onboardings.some((o: any) => o.phoneNumber === phone && o.stage === 'active'),
    );
    expect(listed.status).toBe(200);
    const path = `/ops/onboardings/${encodeURIComponent(phone)}`;
    expect((await call('get', path, { headers: ops })).body.context.sealedToken).toBe('[redacted]');
    expect((await call('post', `${path}/actions`, { body: { action: 'refreshStatusCard' }, headers: ops })).status).toBe(200);
    expect((await call('post', `${path}/actions`, { body: { action: 'reset', to: 'signup' }, headers: ops })).status).toBe(409);
    expect((await call('get', '/ops/onboardings?stage=nowhere', { headers: ops })).status).toBe(400);
    expect((await call('get', '/ops/onboardings')).status).toBe(401);
    const overview = (await call('get', '/ops/overview', { headers: ops })).body;
    expect(overview.stages.find((s: any) => s.stage === 'active').now).toBeGreaterThan(0);
    expect((await call('get', '/ops/overview')).status).toBe(401);
    expect(await call('get', '/ops/parked?limit=5', { headers: ops })).toMatchObject({ status: 200, body: { parked: [] } });
    expect((await call('get', '/ops/parked?cursor=%21', { headers: ops })).status).toBe(400);
    expect((await call('get', '/ops/parked')).status).toBe(401);
    const webhooks = await call('get', '/ops/webhooks', { headers: ops });
    expect(webhooks).toMatchObject({ status: 200, body: { parked: { total: 0 } } });
    expect(webhooks.body.inbox.pending).toBeGreaterThanOrEqual(0);
    expect((await call('get', '/ops/webhooks')).status).toBe(401);
    expect((await call('get', `/ops/onboardings/${encodeURIComponent('+15550619999')}`, { headers: ops })).status).toBe(404);
  });

  test('webhooks: handshake, delivery, refusals', async () => {
    const token = h.config.META_WEBHOOK_VERIFY_TOKEN;
    expect(
      (await call('get', `/webhooks/meta?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=42`, { headers: {} })).body,
    ).toBe('42');
    expect(
      (await call('get', '/webhooks/meta?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=42', { headers: {} })).status,
    ).toBe(403);
    expect((await call('get', '/webhooks/meta', { headers: {} })).status).toBe(403);
    expect((await call('get', '/webhooks/meta?hub.mode=subscribe&hub.mode=subscribe', { headers: {} })).status).toBe(403);
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: '1', time: 1, changes: [{ field: 'brand_new_field', value: {} }] }],
    });
    const signed = await call('post', '/webhooks/meta', {
      body,
      headers: { 'x-hub-signature-256': signWebhook(body, h.config.META_APP_SECRET) },
    });
    expect(signed.body).toEqual({ received: 1, queued: 0, unrouted: ['field:brand_new_field'] });
    expect((await call('post', '/webhooks/meta', { body, headers: {} })).status).toBe(401);

    // What it set aside is in the quarantine, with its bytes, and can be replayed.
    const ops = { authorization: `Bearer ${h.config.OPS_TOKENS[0]!.token}` };
    const listed = await call('get', '/ops/quarantine?classification=field:brand_new&limit=1', { headers: ops });
    expect(listed.body.entries[0]).toMatchObject({ classifications: ['field:brand_new_field'] });
    const id = listed.body.entries[0].id as string;
    expect((await call('get', `/ops/quarantine/${id}`, { headers: ops })).body).toMatchObject({ body: JSON.parse(body) });
    expect((await call('post', '/ops/quarantine/replay', { body: { ids: [id] }, headers: ops })).body).toEqual({
      replayed: [{ id, queued: 0 }],
      notReplayable: [],
    });
    expect((await call('get', '/ops/quarantine/999999999', { headers: ops })).status).toBe(404);
    expect((await call('get', '/ops/quarantine?limit=0', { headers: ops })).status).toBe(400);
    expect((await call('get', '/ops/quarantine')).status).toBe(401);
  });

  test('codec: encode and decode for an operator; 400 for a payload that does not authenticate, 401 without a token', async () => {
    const ops = { authorization: `Bearer ${h.config.OPS_TOKENS[0]!.token}` };
    const plain = {
      metadata: { encoding: Buffer.from('json/plain').toString('base64') },
      data: Buffer.from('{"text":"hi"}').toString('base64'),
    };
    const encoded = await call('post', '/codec/encode', { body: { payloads: [plain] }, headers: ops });
    expect(Buffer.from(encoded.body.payloads[0].metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
    expect((await call('post', '/codec/decode', { body: encoded.body, headers: ops })).body).toEqual({ payloads: [plain] });
    const tampered = { payloads: [{ ...encoded.body.payloads[0], data: Buffer.alloc(40).toString('base64') }] };
    expect((await call('post', '/codec/decode', { body: tampered, headers: ops })).body.error).toMatchObject({
      code: 'undecodable_payload',
      field: 'body.payloads',
    });
    expect((await call('post', '/codec/decode', { body: { payloads: [plain] } })).status).toBe(401);
  });

  test('every operation was answered with a success and checked', () => {
    const succeeded = new Set([...checked].filter((c) => / 2\d\d$/.test(c)).map((c) => c.split(' ')[0]));
    expect(ROUTES.map((r) => r.operationId).filter((id) => !succeeded.has(id))).toEqual([]);
  });
});

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  slash: boolean;
}

/** `method path` of every route in the router stack, through the routers mounted on it. */
function appRoutes(stack: Layer[]): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) return Object.keys(layer.route.methods).map((method) => `${method} ${layer.route!.path}`);
    if (!layer.handle.stack) return [];
    // Mounted at a path, its routes' paths would need the prefix; every router here is mounted at the root.
    expect(layer.slash).toBe(true);
    return appRoutes(layer.handle.stack);
  });
}
