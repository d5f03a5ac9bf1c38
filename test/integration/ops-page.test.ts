/**
 * The ops page in real headless Chromium against `npm start`: nothing without a valid token; an
 * onboarding left in linking past its budget shows as stuck, opens with its machine drawn and its
 * timeline, what it waits for and only the repairs its state accepts, and "Refresh linking" repairs it
 * with the operator named; the overview draws the funnel, the time in stage against the budget and the rates; the parked effects are listed; the webhooks section shows the inbox's depth and dispatch lag, the quarantine (count, latest entries with their reason, each opened from its link) and the parked count. Skipped, saying why, when there is no Chromium (apt-get install -y chromium).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { signWebhook } from '../../api/webhooks/signature';
import { findChromium } from '../helpers/chromium';
import { stackEnvironment, startStack, type StackProcess } from '../helpers/stack';
import { eventually } from '../helpers/wait';

const API_KEY = 'local-backend-api-key';
const OPS_TOKEN = 'carol-ops-token-0001';
const APP_SECRET = 'ops-page-meta-app-secret-0001';
const phone = '+15550400001';
const screenshot = resolve(__dirname, '..', 'artifacts', 'ops-page.png');

const found = findChromium();
if ('missing' in found) {
  console.warn(`ops page in Chromium SKIPPED: ${found.missing}`);
}

('executablePath' in found ? describe : describe.skip)('the ops page in headless Chromium', () => {
  let stack: StackProcess;
  let browser: Browser;

  async function call(base: string, method: string, path: string, body?: unknown): Promise<any> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json = await response.json();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  }
  const api = (method: string, path: string, body?: unknown) => call(stack.apiUrl, method, path, body);
  const sim = (method: string, path: string, body?: unknown) => call(`${stack.simulatorUrl}/_sim`, method, path, body);

  beforeAll(async () => {
    const env = await stackEnvironment();
    stack = startStack({
      ...env,
      OPS_TOKENS: `carol:${OPS_TOKEN}`,
      META_APP_SECRET: APP_SECRET,
      OPS_STAGE_BUDGETS: '{"linking":1000}',
    });
    await stack.waitForLine(/API listening/);
    browser = await chromium.launch({
      executablePath: (found as { executablePath: string }).executablePath,
      args: ['--no-sandbox'],
    });

    // Through signup into linking, where a 30-minute QR just waits: stuck once past the 1 s budget.
    await sim('POST', '/numbers', { phoneNumber: phone, paymentMethod: true });
    await api('POST', '/onboardings', { phoneNumber: phone, settings: { linkingAttemptTtlMs: 30 * 60_000 } });
    await api('POST', `/onboardings/${phone}/prerequisites`, {
      appVersion: '2.25.1',
      hasBusinessPortfolio: true,
      connectedElsewhere: false,
    });
    // Meta's popup opens and shows the QR; the backend reports the session.
    await sim('POST', '/signup', { phoneNumber: phone });
    await api('POST', `/onboardings/${phone}/events`, { type: 'signupStarted' });
    await eventually(
      () => api('GET', `/onboardings/${phone}`),
      (o) => o.stage === 'linking',
    );
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop('SIGINT');
  });

  async function openPage(): Promise<{ page: Page; apiCalls: string[] }> {
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
    const apiCalls: string[] = [];
    page.on('request', (request) => {
      if (/^\/ops\/(onboardings|overview)/.test(new URL(request.url()).pathname)) apiCalls.push(request.url());
    });
    page.on('dialog', (dialog) => void dialog.accept());
    const response = await page.goto(`${stack.apiUrl}/ops`, { waitUntil: 'networkidle' });
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/^text\/html/);
    return { page, apiCalls };
  }

  async function signIn(page: Page, token: string) {
    await page.fill('#token', token);
    await page.click('#token-form button[type=submit]');
  }

  test('without a valid token the page asks for one and shows no data', async () => {
    const { page, apiCalls } = await openPage();
    await page.locator('#token').waitFor({ state: 'visible' });
    expect(await page.locator('#content').isHidden()).toBe(true);
    expect(apiCalls).toEqual([]);
    expect(await page.locator('body').innerText()).not.toContain(phone);

    await signIn(page, 'not-the-ops-token-at-all');
    // The sign-in says which token to paste.
    expect(await page.locator('#token-form .hint').innerText()).toContain('name:token');
    await page.locator('#message', { hasText: 'That is not one of the ops tokens in OPS_TOKENS' }).waitFor();
    expect(await page.locator('#content').isHidden()).toBe(true);
    expect(await page.locator('#onboardings tbody tr').count()).toBe(0);
    expect(await page.locator('body').innerText()).not.toContain(phone);
    // A wrong token is not kept: the page asks again.
    expect(await page.locator('#token').isVisible()).toBe(true);
    await page.context().close();
  });

  test('a stuck onboarding is found, inspected with its machine, and repaired by the named operator', async () => {
    const { page } = await openPage();
    // The whole `name:token` pair, as OPS_TOKENS spells it, is accepted too.
    await signIn(page, `carol:${OPS_TOKEN}`);

    // The overview draws the funnel from the API: the number is in linking now, and entered it.
    await page.locator('#funnel rect title', { hasText: 'linking now: 1' }).waitFor({ state: 'attached', timeout: 30_000 });
    await page.locator('#funnel rect title', { hasText: 'linking entered: 1' }).waitFor({ state: 'attached' });
    await page.locator('#funnel rect title', { hasText: 'signup left: 1' }).waitFor({ state: 'attached' });
    // Its time in linking is past the 1 s budget: drawn in an over-budget bucket.
    await page.locator('#ages [data-stage="linking"] rect.over title', { hasText: /: 1$/ }).waitFor({ state: 'attached' });
    expect(await page.locator('#rates polyline').count()).toBe(2);
    // The parked effects come from the API too: none in this stack.
    await page.locator('#parked-empty', { hasText: 'Nothing is parked.' }).waitFor();
    expect(await page.locator('#parked-effects tbody tr').count()).toBe(0);

    // The list refreshes by itself: the row turns up marked stuck once linking outlasts 1 s.
    const row = page.locator(`#onboardings tr.stuck[data-phone="${phone}"]`);
    await row.waitFor({ timeout: 30_000 });
    expect(await row.innerText()).toContain('STUCK');
    expect(await row.getAttribute('data-stage')).toBe('linking');

    // Filters go to the API: another stage hides it, stuck only keeps it.
    await page.selectOption('#filter-stage', 'active');
    await page.locator(`#onboardings tr[data-phone="${phone}"]`).waitFor({ state: 'detached' });
    await page.selectOption('#filter-stage', 'linking');
    await page.check('#filter-stuck');
    await row.waitFor();

    await row.click();
    await page.locator('#detail').waitFor({ state: 'visible' });
    expect(await page.locator('#detail-title').innerText()).toBe(`${phone} — linking (stuck)`);
    const attempts = page.locator('#summary dd[data-key="Linking attempts"]');
    expect(await attempts.innerText()).toBe('1');
    // What it waits for and who must act, and only the repairs linking accepts.
    expect(await page.locator('#waiting').innerText()).toMatch(
      /^Waits for the person to scan the QR code .*\(the person must act\)$/,
    );
    const offered = await page
      .locator('.actions button[data-action]:visible')
      .evaluateAll((buttons) => buttons.map((b) => b.getAttribute('data-action')));
    expect(offered.sort()).toEqual(['cancel', 'refreshLinking']);
    expect(await page.locator('#reset-label').isHidden()).toBe(true);

    // The machine as the API defines it: the current state, the states passed through, the rest.
    await page.locator('#diagram .state.current[data-state="linking.session"]').waitFor();
    expect(await page.locator('#diagram [data-state="linking"]').getAttribute('class')).toContain('current');
    for (const visited of ['prerequisites', 'signup', 'signup.awaitingResult']) {
      expect(await page.locator(`#diagram [data-state="${visited}"]`).getAttribute('class')).toContain('visited');
    }
    for (const untouched of ['registration', 'active', 'blocked', 'cancelled']) {
      expect(await page.locator(`#diagram [data-state="${untouched}"]`).getAttribute('class')).not.toMatch(/current|visited/);
    }
    expect(await page.locator('#diagram [data-state="active.statusCard.refreshing"]').count()).toBe(1);
    expect(await page.locator('#timeline tr[data-event="signup.started"]').count()).toBe(1);
    expect(await page.locator('#timers tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('#status-card').innerText()).toContain('sendingState');

    await page.getByRole('button', { name: 'Refresh linking' }).click();
    await page.locator('#action-result.ok', { hasText: 'refreshLinking done' }).waitFor();
    await page.locator('#summary dd[data-key="Linking attempts"]', { hasText: /^2$/ }).waitFor();
    await page.locator('#timeline tr[data-event="linking.refresh"][data-by="ops:carol"]').waitFor();
    const fromApi = (await (
      await fetch(`${stack.apiUrl}/ops/onboardings/${encodeURIComponent(phone)}`, {
        headers: { authorization: `Bearer ${OPS_TOKEN}` },
      })
    ).json()) as any;
    expect(fromApi.context.linkingAttempts).toBe(2);
    expect(fromApi.timeline.at(-1)).toMatchObject({ event: 'linking.refresh', by: 'ops:carol' });

    // Still linking: still only what linking accepts.
    expect(await page.getByRole('button', { name: 'Retry' }).isHidden()).toBe(true);
    expect(await page.getByRole('button', { name: 'Reset', exact: true }).isHidden()).toBe(true);
    expect(await attempts.innerText()).toBe('2');

    mkdirSync(join(screenshot, '..'), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    await page.context().close();
  });

  test('the webhooks section shows the inbox depth and dispatch lag, the quarantine with its reasons and links, and the parked count', async () => {
    // A signed delivery for another of Meta's products: answered 200 and quarantined as `object:page`.
    const raw = JSON.stringify({ object: 'page', entry: [{ id: '800000000000777', time: 1764842400, changes: [] }] });
    const posted = await fetch(`${stack.apiUrl}/webhooks/meta`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhook(raw, APP_SECRET) },
      body: raw,
    });
    expect(posted.status).toBe(200);
    const ops = { authorization: `Bearer ${OPS_TOKEN}` };
    const { entries } = (await (
      await fetch(`${stack.apiUrl}/ops/quarantine?classification=object%3Apage`, { headers: ops })
    ).json()) as any;
    expect(entries).toHaveLength(1);
    const id = entries[0].id as string;

    const { page } = await openPage();
    await signIn(page, OPS_TOKEN);
    const row = page.locator(`#quarantine tr[data-id="${id}"]`);
    await row.waitFor({ timeout: 30_000 });
    expect(await row.locator('td').nth(2).innerText()).toBe('object:page');
    expect(await row.locator('a').getAttribute('href')).toBe(`/ops/quarantine/${id}`);
    expect(await page.locator('#quarantine-empty').isHidden()).toBe(true);

    // The counts, as the API gives them.
    const counts = (await (await fetch(`${stack.apiUrl}/ops/webhooks`, { headers: ops })).json()) as any;
    expect(counts.quarantine.total).toBeGreaterThanOrEqual(1);
    const dd = (key: string) => page.locator(`#webhook-counts dd[data-key="${key}"]`);
    await dd('Quarantined')
      .filter({ hasText: /^[1-9]\d* \([1-9]\d* never replayed\)$/ })
      .waitFor();
    expect(await dd('Inbox pending').innerText()).toMatch(/^\d+$/);
    expect(await dd('Dispatch lag').innerText()).toMatch(/^\d+(s|m \d+s|h \d+m|d \d+h)$/);
    expect(await dd('Parked').innerText()).toBe(String(counts.parked.total));

    // The link opens the entry here, fetched with the token: its reason and the delivery as Meta sent it.
    await row.locator('a').click();
    await page.locator('#quarantine-detail').waitFor({ state: 'visible' });
    expect(await page.locator('#quarantine-title').innerText()).toBe(`Quarantine entry #${id}: object:page`);
    expect(JSON.parse(await page.locator('#quarantine-body').innerText())).toMatchObject({
      id,
      classifications: ['object:page'],
      body: JSON.parse(raw),
      bytes: Buffer.byteLength(raw),
    });
    expect(new URL(page.url()).pathname).toBe('/ops');
    await page.context().close();
  });
});
