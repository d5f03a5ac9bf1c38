/**
 * Secrets and data on the whole `npm start` stack (real dev server, worker, API, simulator), with
 * secrets of its own, one of them read from a file: a whole onboarding and conversation, then
 * - the raw history, as the real `temporal workflow show` prints it, holds no access token, app
 *   secret or message text (the payload codec encrypts them);
 * - the codec endpoint gives them back, to an operator only, and the CLI shows them through it;
 * - not one log line of the run holds a secret.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { unsealToken } from '../../activities/token-vault';
import { CODEC_COOKIE } from '../../api/codec/routes';
import { loadConfig } from '../../config';
import type { OnboardingContext } from '../../machines/onboarding';
import { httpTarget } from '../../scenarios/http-target';
import { loadScenario } from '../../scenarios/load';
import { playScenario } from '../../scenarios/runner';
import { ensureTemporalBinaries } from '../../scripts/temporal-binaries';
import { dataConverter } from '../../security/payload-codec';
import { stateQuery, type MachineView } from '../../contracts/machine-api';
import { stackEnvironment, startStack, type StackProcess } from '../helpers/stack';

const run = promisify(execFile);
const secret = (prefix: string) => `${prefix}-${randomBytes(18).toString('base64url')}`;
const codecKey = randomBytes(32).toString('base64');
const secrets = {
  BACKEND_API_KEY: secret('api-key'),
  BACKEND_CALLBACK_SECRET: secret('callback-secret'),
  TOKEN_SEALING_KEY: randomBytes(32).toString('base64'),
  PAYLOAD_CODEC_KEYS: `test-1:${codecKey}`,
  META_APP_SECRET: secret('app-secret'),
  META_WEBHOOK_VERIFY_TOKEN: secret('verify-token'),
  OPS_TOKENS: `sec:${secret('ops-token')}`,
};
const opsToken = secrets.OPS_TOKENS.slice('sec:'.length);
const scenario = loadScenario(resolve(__dirname, '..', 'scenarios', 'conversation-echo-and-window.yaml'));
const messageTexts = ['Typed in the app', 'Do you have it in blue?', 'Yes, in blue.'];

let stack: StackProcess;
let client: Client;
let accessToken: string;
let cli: string;
const histories = new Map<string, string>();

beforeAll(async () => {
  // The app secret comes from a file, as a Docker or Kubernetes secret would.
  const secretsDir = mkdtempSync(join(tmpdir(), 'coexist-secrets-'));
  writeFileSync(join(secretsDir, 'meta-app-secret'), `${secrets.META_APP_SECRET}\n`);
  const { META_APP_SECRET: _inFile, ...inEnvironment } = secrets;
  const env = {
    ...(await stackEnvironment()),
    ...inEnvironment,
    META_APP_SECRET_FILE: join(secretsDir, 'meta-app-secret'),
    LOG_LEVEL: 'debug',
  };
  stack = startStack(env);
  await stack.waitForLine(/API listening/);

  const target = httpTarget({
    name: 'npm start',
    apiUrl: stack.apiUrl,
    apiKey: secrets.BACKEND_API_KEY,
    simulatorUrl: stack.simulatorUrl,
  });
  await playScenario(scenario, target, { expectTimeoutMs: 60_000 });

  const config = loadConfig(env);
  client = new Client({
    connection: await Connection.connect({ address: stack.temporalAddress }),
    dataConverter: dataConverter(config),
  });
  const view = (await client.workflow
    .getHandle(`onboarding:${scenario.phone}`)
    .query(stateQuery)) as MachineView<OnboardingContext>;
  accessToken = unsealToken(view.context.sealedToken!, secrets.TOKEN_SEALING_KEY);

  ({ cli } = ensureTemporalBinaries());
  for await (const execution of client.workflow.list()) {
    const { stdout } = await run(
      cli,
      ['workflow', 'show', '--output', 'json', '--address', stack.temporalAddress, '-w', execution.workflowId],
      { maxBuffer: 64 << 20 },
    );
    histories.set(execution.workflowId, stdout);
  }
}, 300_000);

afterAll(async () => {
  await client?.connection.close();
  await stack?.stop('SIGINT');
});

/** Every string of a JSON document, and what each reads as when it is base64 (payload data). */
function readable(json: string): string {
  const strings: string[] = [];
  const walk = (node: unknown): void => {
    if (typeof node === 'string') strings.push(node, Buffer.from(node, 'base64').toString('utf8'));
    else if (node && typeof node === 'object') Object.values(node).forEach(walk);
  };
  walk(JSON.parse(json));
  return strings.join('\n');
}

const secretValues = () => ({ accessToken, ...secrets, codecKey, opsToken });

test('the raw history of every workflow holds no access token, secret or message text', () => {
  expect(accessToken).toMatch(/^EAAG/);
  expect([...histories.keys()].sort()).toEqual(
    expect.arrayContaining([
      `onboarding:${scenario.phone}`,
      expect.stringMatching(/^conversation:\d+:16505550101$/),
      expect.stringMatching(/^sender:\d+$/),
    ]),
  );
  let payloads = 0;
  for (const [workflowId, json] of histories) {
    const text = readable(json);
    // What is plain there: ids and search attributes; the payloads are encrypted with our key.
    expect(text).toContain('binary/encrypted');
    payloads += text.split('binary/encrypted').length - 1;
    for (const [name, value] of Object.entries({
      ...secretValues(),
      ...Object.fromEntries(messageTexts.map((t) => [`text: ${t}`, t])),
    })) {
      expect({ workflowId, name, found: text.includes(value) }).toEqual({ workflowId, name, found: false });
    }
  }
  console.log(
    `secrets: ${histories.size} histories, ${payloads} encrypted payloads read by temporal workflow show; no token, secret or message text in them`,
  );
});

test('the codec endpoint decrypts them for an operator only, and the CLI shows history through it', async () => {
  const conversationId = [...histories.keys()].find((id) => id.startsWith('conversation:'))!;
  const raw = JSON.parse(histories.get(conversationId)!);
  const encrypted: { metadata: Record<string, string>; data: string }[] = [];
  const collect = (node: any): void => {
    if (node && typeof node === 'object') {
      if (typeof node.data === 'string' && node.metadata?.encoding === Buffer.from('binary/encrypted').toString('base64'))
        encrypted.push({ metadata: node.metadata, data: node.data });
      else Object.values(node).forEach(collect);
    }
  };
  collect(raw);
  expect(encrypted.length).toBeGreaterThan(0);

  const decode = (headers: Record<string, string>) =>
    fetch(`${stack.apiUrl}/codec/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
      body: JSON.stringify({ payloads: encrypted }),
    });
  const refused = await decode({});
  expect(refused.status).toBe(401);
  expect(await refused.json()).toMatchObject({ error: { code: 'unauthorized' } });
  expect((await decode({ authorization: `Bearer ${secrets.BACKEND_API_KEY}` })).status).toBe(401);

  const decoded = (await (await decode({ authorization: `Bearer ${opsToken}` })).json()) as {
    payloads: { metadata: Record<string, string>; data: string }[];
  };
  expect(decoded.payloads).toHaveLength(encrypted.length);
  const plain = decoded.payloads.map((p) => Buffer.from(p.data, 'base64').toString('utf8')).join('\n');
  // The echo and the customer's message reach the conversation as events, so their texts are in its
  // history; the platform's reply reaches it only when the store could not decide the send
  // (api/conversations/workflow.ts), which depends on timing.
  for (const text of messageTexts.slice(0, 2)) expect(plain).toContain(text);

  // Locally the dev server's Web UI is given npm start's relay on loopback, which calls the
  // endpoint with the ops token (scripts/codec-relay.ts); from the Web UI's origin it decrypts.
  const settings = (await (await fetch(`${stack.uiUrl}/api/v1/settings`)).json()) as { Codec?: { Endpoint?: string } };
  const relay = settings.Codec?.Endpoint ?? '';
  expect(relay).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const relayed = await fetch(`${relay}/decode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: stack.uiUrl },
    body: JSON.stringify({ payloads: encrypted }),
  });
  expect(relayed.headers.get('access-control-allow-origin')).toBe(stack.uiUrl);
  expect(await relayed.json()).toEqual(decoded);
  // A Web UI elsewhere calls the endpoint from its origin with the ops page's cookie.
  const withCookie = await decode({ cookie: `other=1; ${CODEC_COOKIE}=${encodeURIComponent(opsToken)}`, origin: stack.uiUrl });
  expect(withCookie.status).toBe(200);
  expect(withCookie.headers.get('access-control-allow-origin')).toBe(stack.uiUrl);
  expect(withCookie.headers.get('access-control-allow-credentials')).toBe('true');
  expect((await decode({ cookie: `${CODEC_COOKIE}=${encodeURIComponent(`${opsToken}x`)}` })).status).toBe(401);
  const preflight = await fetch(`${stack.apiUrl}/codec/decode`, {
    method: 'OPTIONS',
    headers: {
      origin: stack.uiUrl,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type,x-namespace',
    },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe(stack.uiUrl);
  const elsewhere = await fetch(`${stack.apiUrl}/codec/decode`, {
    method: 'OPTIONS',
    headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
  });
  expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();

  const { stdout } = await run(
    cli,
    [
      'workflow',
      'show',
      '--output',
      'json',
      '--address',
      stack.temporalAddress,
      '-w',
      conversationId,
      '--codec-endpoint',
      `${stack.apiUrl}/codec`,
      '--codec-auth',
      `Bearer ${opsToken}`,
    ],
    { maxBuffer: 64 << 20 },
  );
  expect(readable(stdout)).toContain('Do you have it in blue?');
});

test('no log line of the run holds a secret or the access token', async () => {
  const lines = [...stack.lines];
  expect(lines.length).toBeGreaterThan(20);
  for (const [name, value] of Object.entries(secretValues())) {
    expect({ name, lines: lines.filter((l) => l.includes(value)) }).toEqual({ name, lines: [] });
  }
  console.log(
    `secrets: ${lines.length} log lines of a whole onboarding and conversation; none holds any of ${Object.keys(secretValues()).length} secrets`,
  );
});
