/**
 * A newcomer's first hour with `npm start`, as a user runs it: once the stack answers it prints a
 * plain-text banner with each URL, the development key and token, and three next steps; the Web
 * UI's first workflow page, opened in headless Chromium with no setting touched, shows the input
 * decrypted (no "Codec Server could not connect"); `npm run temporal` reaches the stack as the
 * README writes it; and after a restart the simulator gives a new number ids that no running
 * onboarding holds. The Web UI part is skipped, saying why, when there is no Chromium
 * (apt-get install -y chromium).
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { findChromium } from '../helpers/chromium';
import { jsonClients } from '../helpers/harness';
import { createPhone, scan, throughSignup } from '../helpers/onboard';
import { stackEnvironment, startStack, type StackProcess } from '../helpers/stack';
import { eventually } from '../helpers/wait';

const API_KEY = 'local-backend-api-key';
const root = resolve(__dirname, '..', '..');
const found = findChromium();
if ('missing' in found) console.warn(`the Web UI in Chromium SKIPPED: ${found.missing}`);

let env: Record<string, string>;
let stack: StackProcess | undefined;

beforeAll(async () => {
  env = await stackEnvironment();
});

afterAll(async () => {
  await stack?.stop('SIGINT');
});

function driver(s: StackProcess) {
  const { api, sim } = jsonClients(s.apiUrl, API_KEY, s.simulatorUrl);
  return {
    api,
    sim,
    onboardingWhen: (phoneNumber: string, accept: (o: any) => boolean, timeoutMs = 60_000) =>
      eventually(async () => (await api('GET', `/onboardings/${phoneNumber}`)).body, accept, { timeoutMs, intervalMs: 250 }),
  };
}

function temporalScript(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      join(root, 'node_modules', '.bin', 'tsx'),
      [join(root, 'scripts', 'temporal.ts'), ...args],
      // As the README runs it: no TEMPORAL_ADDRESS, only the stack's port variables.
      { cwd: root, env: { ...process.env, ...env }, timeout: 60_000, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const phoneA = '+15550730001';
const phoneB = '+15550730002';
let idsA: { phoneNumberId: string; wabaId: string };

test('once the stack answers, a plain-text banner shows every URL, the key and token, and three next steps', async () => {
  stack = startStack(env);
  const end = await stack.waitForLine(/^Ctrl-C stops everything\.$/);
  const lines = stack.lines;
  const banner = lines.slice(lines.indexOf(lines.find((l) => l.startsWith('coexist is running'))!), lines.indexOf(end) + 1);
  // After the API listened (JSON lines: not a terminal), and healthy by then.
  expect(lines.findIndex((l) => l.includes('"msg":"API listening"'))).toBeLessThan(lines.indexOf(banner[0]!));
  expect(banner.join('\n')).toMatch(new RegExp(`^ {2}API +${stack.apiUrl} +header X-Api-Key: ${API_KEY}$`, 'm'));
  expect(banner).toContain(`  API docs   ${stack.apiUrl}/docs`);
  expect(banner.join('\n')).toMatch(/^ {2}Ops page .*sign in with the ops token: local-ops-token-change-me$/m);
  expect(banner.join('\n')).toMatch(new RegExp(`^ {2}Web UI +${stack.uiUrl} +payloads shown decrypted$`, 'm'));
  expect(banner.join('\n')).toMatch(new RegExp(`^ {2}Simulator +${stack.simulatorUrl} `, 'm'));
  expect(banner.filter((l) => /^ {2}\d\. /.test(l))).toHaveLength(3);
  for (const l of banner) expect(l.startsWith('{')).toBe(false);
  expect(await (await fetch(`${stack.apiUrl}/health`)).json()).toMatchObject({ status: 'ok' });
});

('executablePath' in found ? test : test.skip)(
  "the Web UI's first workflow page shows the input decrypted, with no setting touched",
  async () => {
    const d = driver(stack!);
    const started = await d.api('POST', '/onboardings', { phoneNumber: phoneA });
    expect(started.status).toBe(201);
    const browser = await chromium.launch({
      executablePath: (found as { executablePath: string }).executablePath,
      args: ['--no-sandbox'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(`${stack!.uiUrl}/namespaces/default/workflows/${encodeURIComponent(`onboarding:${phoneA}`)}`);
      // The input, decrypted by the codec: the phone number as JSON text, not base64 ciphertext.
      const text = await eventually(
        () => page.locator('body').innerText(),
        (t) => /"phoneNumber":\s*"\+15550730001"/.test(t),
        { timeoutMs: 90_000, intervalMs: 250 },
      );
      expect(text).not.toMatch(/Codec Server could not connect/i);

      // The relay answers the Web UI's origin only: another site's page cannot read through it.
      const { codecEndpoint } = JSON.parse(stack!.lines.find((l) => l.includes('"msg":"Temporal dev server ready"'))!);
      const preflight = (origin: string) =>
        fetch(`${codecEndpoint}/decode`, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
        });
      expect((await preflight(stack!.uiUrl)).headers.get('access-control-allow-origin')).toBe(stack!.uiUrl);
      expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
      const dir = resolve(__dirname, '..', 'artifacts');
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: join(dir, 'web-ui-decoded.png') });
    } finally {
      await browser.close();
    }
  },
  180_000,
);

test('npm run temporal reaches the stack as written: the address, and payloads decrypted', async () => {
  const d = driver(stack!);
  if ((await d.api('GET', `/onboardings/${phoneA}`)).status === 404) await d.api('POST', '/onboardings', { phoneNumber: phoneA });
  const listed = await temporalScript(['workflow', 'list', '--query', `WorkflowId = 'onboarding:${phoneA}'`]);
  expect(listed).toMatchObject({ code: 0 });
  expect(listed.stdout).toContain(`onboarding:${phoneA}`);
  const shown = await temporalScript(['workflow', 'show', '--output', 'json', '-w', `onboarding:${phoneA}`]);
  expect(shown.code).toBe(0);
  const started = JSON.parse(shown.stdout).events[0].workflowExecutionStartedEventAttributes.input.payloads[0];
  expect(Buffer.from(started.metadata.encoding, 'base64').toString()).toBe('json/plain');
  expect(JSON.parse(Buffer.from(started.data, 'base64').toString())).toMatchObject({ input: { phoneNumber: phoneA } });
});

test('after a restart, the simulator gives a new number ids that no running onboarding holds', async () => {
  const d = driver(stack!);
  const phoneC = '+15550730003';
  idsA = await createPhone(d, phoneC);
  await throughSignup(d, phoneC);
  await scan(d, phoneC);
  const before = await d.onboardingWhen(phoneC, (o) => o.phoneNumberId !== null);
  expect(before).toMatchObject({ phoneNumberId: idsA.phoneNumberId, wabaId: idsA.wabaId });

  expect(await stack!.stop('SIGINT')).toBe(0);
  stack = startStack(env);
  await stack.waitForLine(/^Ctrl-C stops everything\.$/);
  const after = driver(stack);
  const idsB = await createPhone(after, phoneB);
  const idsD = await createPhone(after, '+15550730004');
  const held = [idsA.phoneNumberId, idsA.wabaId];
  for (const id of [idsB.phoneNumberId, idsB.wabaId, idsD.phoneNumberId, idsD.wabaId]) expect(held).not.toContain(id);
  expect(new Set([idsB.phoneNumberId, idsB.wabaId, idsD.phoneNumberId, idsD.wabaId]).size).toBe(4);
  // The onboarding from before the restart still runs with its own ids.
  expect((await after.api('GET', `/onboardings/${phoneC}`)).body).toMatchObject({
    phoneNumberId: idsA.phoneNumberId,
    wabaId: idsA.wabaId,
  });
});
