/**
 * SIGTERM drains (issue 9, item 7): the API stops accepting and finishes what is in flight, the
 * worker finishes the activity it runs, `npm start` does both for the whole stack, and each exits 0.
 */
import { createPhone, scan, throughSignup } from '../helpers/onboard';
import { API_KEY, separateStackMissing, startSeparateStack, type SeparateStack } from '../helpers/separate-stack';
import { connectionError, slowRequest } from '../helpers/slow-request';
import { stackEnvironment, startStack, type StackProcess } from '../helpers/stack';
import { eventually } from '../helpers/wait';

const missing = separateStackMissing();
if (missing) console.warn(`shutdown tests on separate processes SKIPPED: ${missing}`);

(missing ? describe.skip : describe)('SIGTERM on separate processes', () => {
  let stack: SeparateStack;
  beforeAll(async () => {
    stack = await startSeparateStack();
  });
  afterEach(async () => {
    await stack?.killAll();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('the API stops accepting, answers the request in flight, and exits 0', async () => {
    await stack.startWorker();
    const api = await stack.startApi();
    const phone = '+15550900001';
    await createPhone(stack, phone);

    const slow = slowRequest(`${stack.apiUrl}/onboardings`, 'POST', { phoneNumber: phone }, { 'x-api-key': API_KEY });
    await slow.inFlight;
    api.child.kill('SIGTERM');
    await api.waitForLine(/"msg":"draining"/);
    const refused = await connectionError(`${stack.apiUrl}/health`);
    expect(refused).toBe('ECONNREFUSED');

    slow.finish();
    const answer = await slow.answer;
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ id: `onboarding:${phone}`, stage: 'prerequisites' });
    expect(answer.headers.connection).toBe('close');
    expect(await api.exited).toEqual({ code: 0, signal: null });
    expect(api.lines.some((l) => l.includes('"msg":"API stopped"'))).toBe(true);
    console.log(`shutdown API: in-flight request answered ${answer.status} after SIGTERM, new connection ${refused}, exit 0`);
  });

  test('the worker finishes the Meta call it runs, reports it, and exits 0', async () => {
    const worker = await stack.startWorker();
    await stack.startApi();
    const phone = '+15550900002';
    await createPhone(stack, phone);
    await throughSignup(stack, phone);
    await stack.sim('PUT', '/faults', { latencyMs: 5_000, endpoints: ['waba/subscribed_apps'] });
    await scan(stack, phone);
    await eventually(
      () => stack.sim('GET', '/requests'),
      (r) => r.body['POST waba/subscribed_apps'] === 1,
      { timeoutMs: 60_000 },
    );

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(worker.lines.some((l) => l.includes('"msg":"worker stopped"'))).toBe(true);
    expect((await stack.sim('GET', '/calls')).body[`subscribed_apps:${phone}`]).toBe(1);

    // The call's result reached Temporal before the exit: the next worker goes on without calling again.
    await stack.sim('DELETE', '/faults');
    await stack.startWorker();
    await stack.onboardingWhen(phone, (o) => o.stage === 'active');
    const requests = (await stack.sim('GET', '/requests')).body;
    expect(requests['POST waba/subscribed_apps']).toBe(1);
    console.log(
      `shutdown worker: subscribed_apps in flight at SIGTERM, requests 1, applied 1, exit 0; onboarding active on the next worker`,
    );
  });
});

describe('SIGTERM on npm start', () => {
  let stack: StackProcess | undefined;
  afterAll(async () => {
    await stack?.stop('SIGKILL');
  });

  test('the whole stack answers the request in flight, then every part stops and it exits 0', async () => {
    stack = startStack(await stackEnvironment());
    await stack.waitForLine(/API listening/);
    const phone = '+15550900003';
    const slow = slowRequest(
      `${stack.apiUrl}/onboardings`,
      'POST',
      { phoneNumber: phone },
      { 'x-api-key': 'local-backend-api-key' },
    );
    await slow.inFlight;
    stack.child.kill('SIGTERM');
    await stack.waitForLine(/"msg":"stopping"/);
    await eventually(
      () => connectionError(`${stack!.apiUrl}/health`),
      (e) => e === 'ECONNREFUSED',
    );
    slow.finish();
    const answer = await slow.answer;
    expect(answer.status).toBe(201);
    expect(await stack.stop('SIGTERM')).toBe(0);
    for (const part of ['API stopped', 'worker stopped', 'Temporal dev server stopped']) {
      expect(stack.lines.some((l) => l.includes(part))).toBe(true);
    }
    console.log(`shutdown npm start: in-flight request answered ${answer.status} after SIGTERM, exit 0`);
  });
});
