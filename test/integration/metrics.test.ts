/**
 * Observability on real Temporal (dev server): `GET /metrics` counts webhooks by answer and
 * change, API requests by route, Meta calls by endpoint and code and milestones by kind, and reads
 * onboardings per stage, blocked reason and age from visibility; request ids round-trip and reach
 * the log lines; a worker running on its own serves its metrics and Temporal's on WORKER_METRICS_PORT.
 */
import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { createApp } from '../../api/app';
import { signWebhook } from '../../api/webhooks/signature';
import { createLogger } from '../../logger';
import { startHarness, type Harness } from '../helpers/harness';
import { createPhone, scan, throughSignup } from '../helpers/onboard';
import { freePort } from '../helpers/ports';
import { eventually } from '../helpers/wait';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ env: { METRICS_VISIBILITY_CACHE_MS: '0' } });
});

afterAll(async () => {
  await h?.stop();
});

/** Samples of the Prometheus text format: `name{a="x",b="y"} value`. */
function samples(text: string) {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line)!;
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
      return { name: m[1]!, labels: labels as Record<string, string>, value: Number(m[3]) };
    });
}

/** The value of the sample with this name and these labels (others may be present), or 0. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  const found = samples(text).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found?.value ?? 0;
}

async function scrape(): Promise<string> {
  const response = await fetch(`${h.apiUrl}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

function webhook(body: string, signature: string | undefined) {
  return fetch(`${h.apiUrl}/webhooks/meta`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature ? { 'x-hub-signature-256': signature } : {}) },
    body,
  });
}

const envelope = (changes: unknown[]) =>
  JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', time: Math.floor(Date.now() / 1000), changes }] });

test('webhooks, requests, Meta calls and onboardings show in /metrics with their labels', async () => {
  const before = await scrape();
  const phone = '+15550910001';
  const blockedPhone = '+15550910002';
  const linkingPhone = '+15550910003';

  expect((await h.api('POST', '/onboardings', { phoneNumber: phone })).status).toBe(201);
  // Routed to that onboarding, and a field no workflow takes; then a forged and a broken delivery.
  const accountUpdate = envelope([
    { field: 'account_update', value: { phone_number: phone.slice(1), event: 'ACCOUNT_UPDATE' } },
    { field: 'brand_new_field', value: { x: 1 } },
  ]);
  expect((await webhook(accountUpdate, signWebhook(accountUpdate, h.config.META_APP_SECRET))).status).toBe(200);
  expect((await webhook(accountUpdate, signWebhook(accountUpdate, 'not-the-app-secret'))).status).toBe(401);
  expect((await webhook('{"entry": "not json', signWebhook('{"entry": "not json', h.config.META_APP_SECRET))).status).toBe(400);

  // One onboarding blocked by the prerequisites, one in the signup session (linking), scanned later.
  expect((await h.api('POST', '/onboardings', { phoneNumber: blockedPhone })).status).toBe(201);
  const pre = await h.api('POST', `/onboardings/${blockedPhone}/prerequisites`, {
    appVersion: '2.20.1',
    hasBusinessPortfolio: true,
    connectedElsewhere: false,
  });
  expect(pre.body).toMatchObject({ stage: 'blocked', blocked: { reason: 'app_too_old' } });
  await createPhone(h, linkingPhone);
  await throughSignup(h, linkingPhone);

  const after = await eventually(
    scrape,
    (text) =>
      value(text, 'coexist_onboardings', { stage: 'prerequisites' }) >= 1 &&
      value(text, 'coexist_onboardings', { stage: 'linking' }) >= 1 &&
      value(text, 'coexist_onboardings_blocked', { reason: 'app_too_old' }) >= 1,
  );
  const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels);

  expect(delta('coexist_webhook_requests_total', { outcome: 'accepted' })).toBe(1);
  expect(delta('coexist_webhook_requests_total', { outcome: 'rejected_signature' })).toBe(1);
  expect(delta('coexist_webhook_requests_total', { outcome: 'invalid' })).toBe(1);
  expect(value(after, 'coexist_webhook_requests_total', { outcome: 'unavailable' })).toBe(0);
  expect(delta('coexist_webhook_changes_total', { field: 'account_update', routed: 'true' })).toBe(1);
  expect(delta('coexist_webhook_changes_total', { field: 'brand_new_field', routed: 'false' })).toBe(1);

  expect(delta('coexist_http_requests_total', { route: 'POST /onboardings', status: '201' })).toBe(3);
  expect(delta('coexist_http_requests_total', { route: 'POST /webhooks/meta', status: '401' })).toBe(1);
  expect(
    value(after, 'coexist_http_request_duration_seconds_count', { route: 'POST /onboardings/:phoneNumber/prerequisites' }),
  ).toBeGreaterThanOrEqual(2);

  expect(delta('coexist_onboarding_milestones_total', { kind: 'blocked' })).toBe(1);
  expect(value(after, 'coexist_sends_total', { outcome: 'accepted' })).toBe(0);

  // From visibility: per stage, blocked per reason, age since entering the stage.
  expect(value(after, 'coexist_visibility_up')).toBe(1);
  expect(value(after, 'coexist_onboardings', { stage: 'blocked' })).toBeGreaterThanOrEqual(1);
  expect(value(after, 'coexist_onboardings_blocked', { reason: 'qr_not_scanned' })).toBe(0);
  const inPrerequisites = value(after, 'coexist_onboardings', { stage: 'prerequisites' });
  expect(value(after, 'coexist_onboarding_stage_age_seconds_bucket', { stage: 'prerequisites', le: '600' })).toBe(
    inPrerequisites,
  );
  expect(value(after, 'coexist_onboarding_stage_age_seconds_bucket', { stage: 'prerequisites', le: '+Inf' })).toBe(
    inPrerequisites,
  );
  expect(value(after, 'coexist_onboarding_stage_age_seconds_bucket', { stage: 'payment', le: '+Inf' })).toBe(0);
  // Process metrics too.
  expect(after).toMatch(/^process_cpu_user_seconds_total /m);

  // The phone scans, Meta posts FINISH: the worker (in this process, same registry) calls Meta.
  await scan(h, linkingPhone);
  const connected = await eventually(
    scrape,
    (text) => value(text, 'coexist_onboarding_milestones_total', { kind: 'active' }) >= 1,
  );
  const since = (name: string, labels: Record<string, string>) => value(connected, name, labels) - value(before, name, labels);
  expect(since('coexist_meta_calls_total', { endpoint: 'oauth/access_token', code: 'ok' })).toBe(1);
  expect(since('coexist_meta_calls_total', { endpoint: 'waba/phone_numbers', code: 'ok' })).toBeGreaterThanOrEqual(1);
  expect(value(connected, 'coexist_meta_call_duration_seconds_count', { endpoint: 'oauth/access_token' })).toBeGreaterThanOrEqual(
    1,
  );
});

test('the request id round-trips and is on every log line of its request', async () => {
  const given = await fetch(`${h.apiUrl}/health`, { headers: { 'x-request-id': 'backend-req-42' } });
  expect(given.headers.get('x-request-id')).toBe('backend-req-42');
  const generated = await fetch(`${h.apiUrl}/onboardings/+15550910099`, { headers: { 'x-api-key': 'wrong' } });
  expect(generated.status).toBe(401);
  expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  // Not a token: replaced rather than echoed into logs and headers.
  const unsafe = await fetch(`${h.apiUrl}/health`, { headers: { 'x-request-id': 'a b\tc' } });
  expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

  // An app whose log lines are captured: the webhook route logs with the process-wide logger.
  const lines: Record<string, any>[] = [];
  const log = createLogger({ LOG_LEVEL: 'debug' }, 'api', { write: (line: string) => void lines.push(JSON.parse(line)) });
  const app = createApp({ config: h.config, client: h.env.client, store: h.store, log });
  const server: Server = await new Promise((done) => {
    const s = app.listen(0, '127.0.0.1', () => done(s));
  });
  try {
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const body = envelope([{ field: 'another_new_field', value: {} }]);
    const answer = await fetch(`${url}/webhooks/meta`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': signWebhook(body, h.config.META_APP_SECRET),
        'x-request-id': 'meta-delivery-7',
      },
      body,
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-request-id')).toBe('meta-delivery-7');
    await eventually(
      async () => lines,
      (l) => l.some((line) => line.msg === 'request answered'),
    );
    const ofRequest = lines.filter((line) => line.requestId === 'meta-delivery-7');
    expect(ofRequest.map((line) => line.msg)).toEqual(['webhook changes not routed to a workflow', 'request answered']);
    expect(ofRequest[1]).toMatchObject({ route: 'POST /webhooks/meta', status: 200, method: 'POST' });
    expect(lines.every((line) => line.requestId)).toBe(true);
    expect(JSON.stringify(lines)).not.toContain(h.config.META_APP_SECRET);
  } finally {
    await new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections();
    });
  }
});

test("a worker on its own serves coexist's metrics and Temporal's worker metrics on WORKER_METRICS_PORT", async () => {
  const port = await freePort();
  const root = resolve(__dirname, '..', '..');
  const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'worker.ts')], {
    cwd: root,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: h.env.connection.options.address!,
      TEMPORAL_TASK_QUEUE: 'metrics-standalone-worker',
      DATABASE_URL: 'memory://',
      WORKER_METRICS_PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
    // Its own process group: tsx runs the worker in a child process, and both must go at the end.
    detached: true,
  });
  const exited = new Promise((done) => child.once('exit', done));
  try {
    const text = await eventually(
      () =>
        fetch(`http://127.0.0.1:${port}/metrics`).then(
          (r) => (r.ok ? r.text() : ''),
          () => '',
        ),
      // temporal_worker_start comes at start; the slot gauges only once the worker polls its task queue.
      (t) =>
        /^temporal_worker_task_slots_available\{.*task_queue="metrics-standalone-worker"/m.test(t) &&
        t.includes('coexist_sends_total'),
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(text).toMatch(/^coexist_sends_total\{outcome="accepted"\} 0$/m);
    expect(text).toMatch(/^# TYPE coexist_meta_calls_total counter$/m);
    expect(text).toMatch(/^temporal_worker_task_slots_available\{/m);

    // Machine workflows count their transitions and the repeats they drop, through the worker's runtime.
    const message = {
      type: 'customer.message',
      at: Date.now(),
      message: { id: 'wamid.metrics-1', timestamp: Date.now(), type: 'text', content: { text: { body: 'Hi' } } },
    };
    for (let i = 0; i < 2; i++) {
      await h.env.client.workflow.signalWithStart('conversationWorkflow', {
        workflowId: 'conversation:106540352242999:16505559999',
        taskQueue: 'metrics-standalone-worker',
        args: [{ input: { phoneNumberId: '106540352242999', waId: '16505559999' } }],
        signal: 'event',
        signalArgs: [message],
      });
    }
    const counted = await eventually(
      () => fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()),
      (t) => /^coexist_machine_events_deduplicated\w*\{[^}]*machine="conversation"[^}]*\} 1$/m.test(t),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(counted).toMatch(
      /^coexist_machine_transitions\w*\{[^}]*event="customer\.message"[^}]*machine="conversation"[^}]*\} 1$/m,
    );
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
  } finally {
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    };
    signalGroup('SIGTERM'); // the worker stops gracefully and exits
    const killer = setTimeout(() => signalGroup('SIGKILL'), 20_000);
    if (child.exitCode === null && child.signalCode === null) await exited;
    clearTimeout(killer);
  }
});
