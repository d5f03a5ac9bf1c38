/**
 * The phone app's contacts (issue 19, finding 2): Meta's `smb_app_state_sync` (the once-only sync,
 * then every add, edit and removal) and the profile names on customers' messages make each number's
 * contact book, readable with search and pages. Real Temporal, real HTTP, signed webhooks.
 */
import { signWebhook } from '../../api/webhooks/signature';
import { startHarness, type Harness } from '../helpers/harness';
import { onboardToActive } from '../helpers/onboard';
import { eventually } from '../helpers/wait';

let h: Harness;
const phone = '+15550729001';
let phoneNumberId: string;
let wabaId: string;

beforeAll(async () => {
  h = await startHarness();
  ({ phoneNumberId, wabaId } = await onboardToActive(h, phone));
});

afterAll(async () => {
  await h?.stop();
});

const contacts = (query = '') => h.api('GET', `/numbers/${phoneNumberId}/contacts${query}`);
const inApp = (body: Record<string, unknown>) => h.sim('POST', `/numbers/${phone}/app/contacts`, body);
const stateSync = (items: unknown[], time?: number) =>
  h.sim('POST', '/webhooks', {
    wabaId,
    field: 'smb_app_state_sync',
    ...(time !== undefined ? { time } : {}),
    value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: phone.slice(1), phone_number_id: phoneNumberId },
      state_sync: items,
    },
  });

test('the onboarding’s contact sync fills the contact book, and the onboarding shows when and how many', async () => {
  const synced = await eventually(contacts, (r) => r.body.contacts?.length >= 1);
  expect(synced.body.contacts).toEqual([
    expect.objectContaining({ phoneNumber: '16505551234', fullName: 'Pablo Morales', firstName: 'Pablo', inApp: true }),
  ]);
  const onboarding = (await h.api('GET', `/onboardings/${phone}`)).body;
  expect(onboarding.sync.contactsReceived).toEqual({ contacts: 1, firstAt: expect.any(Number) });
});

test('add → edit → remove: the removal is kept as such, with the names known before it', async () => {
  await inApp({ action: 'add', phoneNumber: '16505550111', fullName: 'Ana Ruiz', firstName: 'Ana' });
  await inApp({ action: 'add', phoneNumber: '16505550111', fullName: 'Ana Ruiz Soto', firstName: 'Ana' });
  expect((await contacts('?search=soto')).body.contacts).toEqual([
    expect.objectContaining({ phoneNumber: '16505550111', fullName: 'Ana Ruiz Soto', inApp: true }),
  ]);

  await inApp({ action: 'remove', phoneNumber: '16505550111' });
  expect((await contacts('?search=ana')).body.contacts).toEqual([]);
  expect((await contacts('?removed=only')).body.contacts).toEqual([
    expect.objectContaining({
      phoneNumber: '16505550111',
      fullName: 'Ana Ruiz Soto',
      inApp: false,
      removedAt: expect.any(Number),
    }),
  ]);

  // A late redelivery of an add from before the removal does not bring the contact back.
  await stateSync(
    [
      {
        type: 'contact',
        action: 'add',
        contact: { phone_number: '16505550111', full_name: 'Ana R.' },
        metadata: { timestamp: '1000000000' },
      },
    ],
    1_000_000_000,
  );
  expect((await contacts('?removed=only')).body.contacts).toEqual([
    expect.objectContaining({ phoneNumber: '16505550111', fullName: 'Ana Ruiz Soto', inApp: false }),
  ]);
});

test('a customer’s profile name joins the book without making them an app contact', async () => {
  await h.sim('POST', `/numbers/${phone}/customers/16505550222/messages`, { text: 'Hi!', name: 'Lucía' });
  const seen = await eventually(
    () => contacts('?search=luc'),
    (r) => r.body.contacts?.length === 1,
  );
  expect(seen.body.contacts[0]).toMatchObject({ phoneNumber: '16505550222', profileName: 'Lucía', inApp: false });
  expect(seen.body.contacts[0].fullName).toBeUndefined();
});

test('one odd item does not cost the others; a contact known only by user id is kept', async () => {
  // Posted signed straight to the API, to read its answer.
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: wabaId,
        time: 1_700_000_000,
        changes: [
          {
            field: 'smb_app_state_sync',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: phone.slice(1), phone_number_id: phoneNumberId },
              state_sync: [
                {
                  type: 'contact',
                  action: 'add',
                  contact: { phone_number: '16505550333', full_name: 'Bea Gomez' },
                  metadata: { timestamp: 1_700_000_000 },
                },
                'not an item',
                { type: 'contact', action: 'add', contact: { user_id: 'US.13491208655302741918', full_name: 'Username Only' } },
                { type: 'label', action: 'add' },
              ],
            },
          },
        ],
      },
    ],
  });
  const response = await fetch(`${h.apiUrl}/webhooks/meta`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhook(body, h.config.META_APP_SECRET) },
    body,
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({
    received: 4,
    queued: 0,
    unrouted: ['smb_app_state_sync:malformed_item', 'smb_app_state_sync:label:add'],
  });
  expect((await contacts('?search=bea')).body.contacts).toEqual([expect.objectContaining({ phoneNumber: '16505550333' })]);
  const byUser = (await contacts('?search=username')).body.contacts;
  expect(byUser).toEqual([expect.objectContaining({ userId: 'US.13491208655302741918', inApp: true })]);
  expect(byUser[0].phoneNumber).toBeUndefined();
});

test('pages follow nextCursor; search matches a part of the number; bad queries are 400', async () => {
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = (await contacts(`?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).body;
    expect(page.contacts.length).toBeLessThanOrEqual(2);
    seen.push(...page.contacts.map((c: { phoneNumber?: string; userId?: string }) => c.phoneNumber ?? c.userId));
    cursor = page.nextCursor;
  } while (cursor);
  expect(seen).toEqual(['16505550222', '16505550333', '16505551234', 'US.13491208655302741918']);
  expect((await contacts('?search=5550333')).body.contacts).toHaveLength(1);
  expect((await contacts('?search=%25')).body.contacts).toEqual([]);
  expect((await contacts('?limit=0')).body.error).toMatchObject({ code: 'invalid_request', field: 'query.limit' });
  expect((await contacts('?removed=maybe')).status).toBe(400);
  expect((await contacts('?cursor=%00')).body.error.field).toBe('query.cursor');
  expect((await contacts('?search=a%00b')).body.error.field).toBe('query.search');
});
