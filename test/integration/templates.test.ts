/**
 * Message templates (issue 19, finding 4): Meta's `message_template_status_update` webhooks and its
 * Graph API list keep each WABA's templates; a send of a template Meta would refuse is answered 409
 * with Meta's reason before it reaches Meta; a closed window's refusal names the templates that can
 * go. Real Temporal, real HTTP, signed webhooks from the simulator.
 */
import { startHarness, type Harness } from '../helpers/harness';
import { onboardToActive } from '../helpers/onboard';
import { eventually } from '../helpers/wait';

let h: Harness;
const phone = '+15550719001';
let phoneNumberId: string;
let wabaId: string;

beforeAll(async () => {
  h = await startHarness();
  ({ phoneNumberId, wabaId } = await onboardToActive(h, phone));
});

afterAll(async () => {
  await h?.stop();
});

const templates = (query = '') => h.api('GET', `/numbers/${phoneNumberId}/templates${query}`);
const review = (name: string, body: Record<string, unknown>) =>
  h.sim('PUT', `/numbers/${phone}/templates/${name}`, { language: 'en_US', ...body });
const sendTemplate = (clientMessageId: string, name: string, waId = '16505550901') =>
  h.api('POST', `/numbers/${phoneNumberId}/conversations/${waId}/messages`, {
    clientMessageId,
    message: { type: 'template', template: { name, language: 'en_US' } },
  });
/** Every send request that reached the simulated Meta for this number, accepted or refused. */
const sendRequests = async () => ((await h.sim('GET', `/numbers/${phone}/sent`)).body.requests as unknown[]).length;

test('template statuses from the webhook: each with Meta’s reason, and whether it can be sent', async () => {
  await review('order_update', { status: 'APPROVED', category: 'UTILITY' });
  await review('spring_sale', { status: 'REJECTED', category: 'MARKETING', reason: 'INVALID_FORMAT' });
  await review('receipt', { status: 'PAUSED' });

  const listed = await eventually(templates, (r) => r.body.templates?.length === 3);
  expect(listed.body.wabaId).toBe(wabaId);
  expect(listed.body.templates).toEqual([
    expect.objectContaining({ name: 'order_update', language: 'en_US', status: 'APPROVED', sendable: true }),
    expect.objectContaining({ name: 'receipt', status: 'PAUSED', sendable: false }),
    expect.objectContaining({ name: 'spring_sale', status: 'REJECTED', reason: 'INVALID_FORMAT', sendable: false }),
  ]);
  expect((await templates('?status=APPROVED')).body.templates.map((t: { name: string }) => t.name)).toEqual(['order_update']);
  expect((await templates('?status=NOPE')).status).toBe(400);
  expect((await h.api('GET', '/numbers/999999999999/templates')).body.error.code).toBe('not_found');
});

test('a rejected or paused template is refused 409 with Meta’s reason and never reaches Meta; an approved one is sent', async () => {
  const before = await sendRequests();
  const rejected = await sendTemplate('tpl-rejected', 'spring_sale');
  expect(rejected.status).toBe(409);
  expect(rejected.body.error).toMatchObject({
    code: 'template_not_sendable',
    field: 'body.message.template.name',
    message: expect.stringContaining('REJECTED'),
    hint: expect.stringContaining('order_update (en_US)'),
  });
  expect(rejected.body.error.message).toContain('INVALID_FORMAT');
  const paused = await sendTemplate('tpl-paused', 'receipt');
  expect(paused.body.error).toMatchObject({ code: 'template_not_sendable', message: expect.stringContaining('132015') });

  const approved = await sendTemplate('tpl-approved', 'order_update');
  expect(approved.status).toBe(202);
  // The approved one reached Meta; the refused two never did.
  await eventually(sendRequests, (n) => n >= before + 1);
  expect(await sendRequests()).toBe(before + 1);
  // A template coexist has never heard of is left to Meta.
  expect((await sendTemplate('tpl-unknown', 'never_reviewed')).status).toBe(202);
});

test('a closed window’s refusal names the templates that can be sent', async () => {
  const refused = await h.api('POST', `/numbers/${phoneNumberId}/conversations/16505550902/messages`, {
    clientMessageId: 'free-form-closed',
    message: { type: 'text', text: { body: 'Hello again' } },
  });
  expect(refused.body.error.code).toBe('customer_service_window_closed');
  expect(refused.body.error.hint).toContain('order_update (en_US)');
  expect(refused.body.error.hint).not.toContain('spring_sale');
});

test('an older report never replaces a newer one; a newer status does', async () => {
  const update = (event: string, time: number) =>
    h.sim('POST', '/webhooks', {
      wabaId,
      field: 'message_template_status_update',
      time,
      value: {
        event,
        message_template_id: 1,
        message_template_name: 'spring_sale',
        message_template_language: 'en-US',
        reason: 'NONE',
      },
    });
  const statusOf = async () =>
    ((await templates('?name=spring_sale')).body.templates as { status: string; sendable: boolean }[])[0];

  // A late redelivery from before the rejection changes nothing (the simulator answers once Meta's
  // first attempt was answered, and the API stores a template status before it answers 200).
  await update('PENDING', 1_000_000_000);
  const reports = (await h.sim('GET', '/webhooks?field=message_template_status_update')).body.deliveries;
  expect(reports.at(-1)).toMatchObject({ lastStatus: 200, deliveredAt: expect.any(Number) });
  expect(JSON.parse(reports.at(-1).body).entry[0].changes[0].value.event).toBe('PENDING');
  expect(await statusOf()).toMatchObject({ status: 'REJECTED' });

  // The appeal succeeded: reinstated, sendable again.
  await review('spring_sale', { status: 'REINSTATED' });
  await eventually(statusOf, (t) => t?.status === 'REINSTATED');
  expect(await statusOf()).toMatchObject({ sendable: true });
  expect((await sendTemplate('tpl-reinstated', 'spring_sale')).status).toBe(202);
});

test('refresh reads the WABA’s list from the Graph API: a template whose webhook never arrived appears', async () => {
  const target = (await h.sim('PUT', '/webhook-target', { url: 'http://127.0.0.1:9/unreachable' })).body.url;
  expect(target).toContain(':9/');
  try {
    await review('welcome_back', { status: 'APPROVED', category: 'MARKETING' });
  } finally {
    await h.sim('PUT', '/webhook-target', { url: `${h.apiUrl}/webhooks/meta` });
  }
  const refreshed = await h.api('POST', `/numbers/${phoneNumberId}/templates/refresh`);
  expect(refreshed.status).toBe(200);
  expect(refreshed.body).toEqual({ phoneNumberId, wabaId, templates: 4 });
  const listed = (await templates()).body.templates as { name: string; category?: string; templateId?: string }[];
  expect(listed.find((t) => t.name === 'welcome_back')).toMatchObject({ category: 'MARKETING', templateId: expect.any(String) });
  expect((await h.api('POST', '/numbers/999999999999/templates/refresh')).status).toBe(404);
});

test('refresh for a number whose signup has not given coexist its token is 409, not a server error', async () => {
  const other = '+15550719002';
  await h.sim('POST', '/numbers', { phoneNumber: other, paymentMethod: true });
  await h.api('POST', '/onboardings', { phoneNumber: other });
  await h.api('POST', `/onboardings/${other}/prerequisites`, {
    appVersion: '2.25.1',
    hasBusinessPortfolio: true,
    connectedElsewhere: false,
  });
  // FINISH names a number, but its code is no code Meta gave: the exchange fails, no token is kept.
  await h.api('POST', `/onboardings/${other}/signup`, {
    event: 'FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING',
    code: 'not-a-code-meta-gave',
    data: { waba_id: '102290129340398', phone_number_id: '100000000000009' },
  });
  await eventually(
    () => h.api('GET', '/numbers/100000000000009/templates'),
    (r) => r.status === 200,
  );
  const refused = await h.api('POST', '/numbers/100000000000009/templates/refresh');
  expect(refused.status).toBe(409);
  expect(refused.body.error.code).toBe('number_not_connected');
});
