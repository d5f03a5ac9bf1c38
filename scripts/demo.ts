/**
 * `npm run demo`: against a running `npm start` stack, drives one onboarding through the API and
 * the simulator (letting one QR lapse on the way) and prints each transition and the status card;
 * then the number's two lives: a message typed in the phone app comes back as an echo and opens
 * no window, the customer's reply opens it, and a platform reply goes out inside it.
 */
import { loadConfig } from '../config';

const config = loadConfig();
const apiUrl = `http://${config.API_HOST === '0.0.0.0' ? '127.0.0.1' : config.API_HOST}:${config.API_PORT}`;
const simUrl = `http://127.0.0.1:${config.SIMULATOR_PORT}/_sim`;
const phoneNumber = `+1555${String(Date.now()).slice(-7)}`;

async function call(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-api-key': config.BACKEND_API_KEY },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json = await response.json().catch(() => undefined);
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}
const api = (method: string, path: string, body?: unknown) => call(apiUrl, method, path, body);
const sim = (method: string, path: string, body?: unknown) => call(simUrl, method, path, body);

let printed = 0;
async function follow(until: (o: any) => boolean, timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const o = await api('GET', `/onboardings/${phoneNumber}`);
    for (const t of o.timeline.slice(printed)) console.log(`  ${t.at}  ${t.from.padEnd(34)} → ${t.to.padEnd(34)} (${t.event})`);
    printed = o.timeline.length;
    if (until(o)) return o;
    if (Date.now() > deadline) throw new Error(`timed out in ${o.state}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main(): Promise<void> {
  console.log(`Onboarding ${phoneNumber} through ${apiUrl} (simulator ${simUrl})\n`);
  await sim('POST', '/numbers', { phoneNumber, paymentMethod: true });
  await api('POST', '/onboardings', { phoneNumber, settings: { linkingAttemptTtlMs: 4_000, registrationPollIntervalMs: 500 } });
  await api('POST', `/onboardings/${phoneNumber}/prerequisites`, {
    appVersion: '2.25.1',
    hasBusinessPortfolio: true,
    connectedElsewhere: false,
  });
  // The page opens Meta's popup (Embedded Signup) and its backend reports the session.
  await sim('POST', '/signup', { phoneNumber });
  await api('POST', `/onboardings/${phoneNumber}/events`, { type: 'signupStarted' });

  console.log('Meta shows a QR in its popup; waiting for the first attempt to lapse (4 s) ...');
  await follow((o) => o.linking.attempts >= 2);
  console.log('The backend got linkingLapsed: the person refreshes the code on Meta’s screen and the phone scans it.');
  await sim('POST', `/linking/${phoneNumber}/refresh`, {});
  await api('POST', `/onboardings/${phoneNumber}/events`, { type: 'refreshLinking' });
  const scanned = await sim('POST', `/linking/${phoneNumber}/scan`);
  console.log('Only now does Meta post FINISH to the page, which forwards it with the code.');
  await api('POST', `/onboardings/${phoneNumber}/signup`, {
    event: scanned.message.event,
    data: scanned.message.data,
    code: scanned.code,
  });
  const active = await follow((o) => o.stage === 'active' && o.statusCard.displayName !== undefined);
  console.log('\nWhatsApp Account Status card:');
  console.log(JSON.stringify(active.statusCard, null, 2));
  console.log(
    `\nHistory in the Temporal Web UI: http://127.0.0.1:${config.TEMPORAL_DEV_UI_PORT}/namespaces/${config.TEMPORAL_NAMESPACE}/workflows/${encodeURIComponent(active.id)}`,
  );
  await conversation(active.phoneNumberId);
}

/** Polls until `accept` holds on what `read` returns. */
async function until<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function conversation(phoneNumberId: string): Promise<void> {
  const waId = '16505551234';
  const path = `/numbers/${phoneNumberId}/conversations/${waId}`;
  const show = async (label: string, accept: (c: any) => boolean) => {
    const c = await until(
      () => api('GET', path).catch(() => undefined),
      (c) => c !== undefined && accept(c),
    );
    const window =
      c.customerServiceWindow.status === 'open'
        ? `open until ${new Date(c.customerServiceWindow.expiresAt).toISOString()}`
        : 'closed';
    console.log(`  ${label}: window ${window}, inbox ${c.inbox}, may send ${c.allowedToSend}`);
  };

  console.log(`\nThe business writes to ${waId} from the WhatsApp Business app on the phone:`);
  await sim('POST', `/numbers/${phoneNumber}/app/messages`, { to: `+${waId}`, text: 'Your order is ready' });
  await show('after the echo', (c) => c.counts.echoes >= 1);
  console.log('The customer answers:');
  await sim('POST', `/numbers/${phoneNumber}/customers/${waId}/messages`, { text: 'Great, I will come at 5' });
  await show('after the customer message', (c) => c.customerServiceWindow.status === 'open');
  console.log('The platform replies inside the window:');
  await api('POST', `${path}/messages`, {
    clientMessageId: `demo-${Date.now()}`,
    message: { type: 'text', text: { body: 'See you at 5!' } },
  });
  const { messages } = await until(
    () => api('GET', `${path}/messages?order=asc`),
    (page: any) => page.messages.some((m: any) => m.source === 'platform' && m.status === 'delivered'),
  );
  console.log('\nMessages (read API):');
  for (const m of messages) {
    const body = (m.content?.text as { body?: string } | undefined)?.body ?? m.type;
    console.log(
      `  ${m.direction.padEnd(8)} ${m.source.padEnd(8)} ${String(m.status).padEnd(9)} ${m.pricing.billable ? 'billed' : 'free  '} ${body}`,
    );
  }
}

main().catch((err) => {
  console.error(`demo failed: ${(err as Error).message}`);
  process.exit(1);
});
