/**
 * The Graph client over real HTTP against the simulator: responses parsed, Meta's errors mapped
 * by code to retryable or not, no secret in any error, and no idempotency on sends (as at Meta).
 */
import { ApplicationFailure } from '@temporalio/common';
import { GraphClient } from '../../activities/meta/graph-client';
import { isRetryableMetaError } from '../../activities/meta/errors';
import { META_API_ERROR, type MetaErrorDetails } from '../../machines/interpreter-contract';
import { createSimulator } from '../../simulator/app';

const appSecret = 'graph-client-test-secret';
const simulator = createSimulator({ appId: '42', appSecret, webhookRetryIntervalMs: 0 });
let sim: Awaited<ReturnType<typeof simulator.listen>>;
let client: GraphClient;

beforeAll(async () => {
  sim = await simulator.listen(0);
  client = new GraphClient({ baseUrl: sim.url, apiVersion: 'v24.0', appId: '42', appSecret, timeoutMs: 2_000 });
});

afterAll(async () => {
  await sim.close();
});

async function control(method: string, path: string, body?: unknown) {
  const res = await fetch(`${sim.url}/_sim${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as any;
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

let seq = 0;
/** Meta's order: the popup opens with a QR, the phone scans it, and only then comes FINISH with the code. */
async function finishCode(phoneNumber: string): Promise<string> {
  await control('POST', '/signup', { phoneNumber });
  return (await control('POST', `/linking/${phoneNumber}/scan`)).code;
}

async function signedUp(settings: Record<string, unknown> = {}) {
  const phoneNumber = `+1555020${String(++seq).padStart(4, '0')}`;
  const number = await control('POST', '/numbers', { phoneNumber, ...settings });
  const code = await finishCode(phoneNumber);
  const { accessToken } = await client.exchangeCode(code);
  return { phoneNumber, number, token: accessToken };
}

test('a code exchanges once for a token that reads the WABA’s numbers', async () => {
  const { number, token, phoneNumber } = await signedUp();
  const numbers = await client.listPhoneNumbers(number.wabaId, token);
  expect(numbers).toEqual([
    expect.objectContaining({ id: number.phoneNumberId, display_phone_number: phoneNumber.slice(1), is_on_biz_app: true }),
  ]);
});

test('a used or expired code is a non-retryable Meta error 100, with no secret in the message', async () => {
  const phoneNumber = '+15550209999';
  await control('POST', '/numbers', { phoneNumber });
  const code = await finishCode(phoneNumber);
  await client.exchangeCode(code);
  const used = await failureOf(client.exchangeCode(code));
  expect(used).toMatchObject({ type: META_API_ERROR, nonRetryable: true });
  expect((used.details?.[0] as MetaErrorDetails).code).toBe(100);
  expect(used.message).not.toContain(appSecret);
  expect(used.message).not.toContain(code);

  const late = await finishCode(phoneNumber);
  await control('POST', '/clock/advance', { ms: 31_000 });
  expect(await failureOf(client.exchangeCode(late))).toMatchObject({
    nonRetryable: true,
    message: expect.stringContaining('expired'),
  });
});

test('an unknown token is 190, non-retryable, and the token is not in the error', async () => {
  const failure = await failureOf(client.subscribeApp('1', 'EAAGnot-a-real-token'));
  expect((failure.details?.[0] as MetaErrorDetails).code).toBe(190);
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).not.toContain('EAAGnot-a-real-token');
});

test('5xx and throttling are retryable; throttling asks for a later retry', async () => {
  const { number, token } = await signedUp();
  await control('PUT', '/faults', { errorRate: 1, endpoints: ['node'] });
  const unavailable = await failureOf(client.getPhoneNumber(number.phoneNumberId, token, ['status']));
  expect(unavailable.nonRetryable).toBe(false);
  expect(unavailable.details?.[0] as MetaErrorDetails).toMatchObject({ code: 2, httpStatus: 500 });

  await control('PUT', '/faults', { throttleRate: 1, endpoints: ['node'] });
  const throttled = await failureOf(client.getPhoneNumber(number.phoneNumberId, token, ['status']));
  expect(throttled.nonRetryable).toBe(false);
  expect((throttled.details?.[0] as MetaErrorDetails).code).toBe(80007);
  expect(throttled.nextRetryDelay).toBe(1_000);
  await control('DELETE', '/faults');
});

test('sync is accepted once; a second request is 2593107 and non-retryable', async () => {
  const { number, token, phoneNumber } = await signedUp();
  await control('POST', `/linking/${phoneNumber}/refresh`, {});
  await control('POST', `/linking/${phoneNumber}/scan`);
  expect((await client.requestSync(number.phoneNumberId, token, 'history')).requestId).toMatch(/^req_/);
  const again = await failureOf(client.requestSync(number.phoneNumberId, token, 'history'));
  expect(again.nonRetryable).toBe(true);
  expect((again.details?.[0] as MetaErrorDetails).code).toBe(2593107);
});

test('a send without a payment method is 131042; Meta has no idempotency: a repeated send is a new message', async () => {
  const { number, token, phoneNumber } = await signedUp();
  const refused = await failureOf(
    client.sendMessage(number.phoneNumberId, token, { type: 'text', to: '16505551234', text: { body: 'hi' } }),
  );
  expect((refused.details?.[0] as MetaErrorDetails).code).toBe(131042);
  expect(refused.nonRetryable).toBe(true);

  await control('PATCH', `/numbers/${phoneNumber}`, { paymentMethod: true });
  await control('POST', `/numbers/${phoneNumber}/customers/16505551234/messages`, { text: 'hello' });
  const message = { type: 'text' as const, to: '16505551234', text: { body: 'hi' }, biz_opaque_callback_data: 'client-msg-1' };
  const first = await client.sendMessage(number.phoneNumberId, token, message);
  const repeat = await client.sendMessage(number.phoneNumberId, token, message);
  expect(repeat.messageId).not.toBe(first.messageId);
  const { sent } = await control('GET', `/numbers/${phoneNumber}/sent`);
  expect(sent.map((m: { wamid: string }) => m.wamid)).toEqual([first.messageId, repeat.messageId]);
});

test('no answer at all is retryable', async () => {
  const offline = new GraphClient({
    baseUrl: 'http://127.0.0.1:1',
    apiVersion: 'v24.0',
    appId: '42',
    appSecret,
    timeoutMs: 1_000,
  });
  const failure = await failureOf(offline.exchangeCode('x'));
  expect(failure).toMatchObject({ type: 'MetaUnreachable', nonRetryable: false });
  expect(failure.message).not.toContain(appSecret);
});

test('retryability by code follows Meta’s table', () => {
  for (const code of [1, 2, 4, 17, 80007, 130429, 131056, 131057, 131000]) expect(isRetryableMetaError(code, 400)).toBe(true);
  for (const code of [0, 3, 10, 100, 190, 200, 368, 131026, 131031, 131042, 131047, 2593107, 2593108])
    expect(isRetryableMetaError(code, 400)).toBe(false);
  expect(isRetryableMetaError(undefined, 503)).toBe(true);
  expect(isRetryableMetaError(undefined, 404)).toBe(false);
});
