/**
 * Property-based fuzzing (fast-check) of the webhook parser: whatever JSON arrives signed, the
 * envelope schema answers success or a zod error, and a parsed envelope is routed or classified,
 * never thrown on; well-formed customer messages each go to their own conversation.
 */
import fc from 'fast-check';
import { assertSafeJson } from '../../api/http/json-body';
import { ANY_NUMBER, type NumberCheck } from '../../api/webhooks/number-check';
import { routeChanges } from '../../api/webhooks/route-changes';
import { envelopeSchema } from '../../api/webhooks/schemas';
import { conversationWorkflowId } from '../../contracts/ids';

const FIELDS = [
  'messages',
  'smb_message_echoes',
  'smb_app_state_sync',
  'history',
  'account_update',
  'phone_number_quality_update',
  'phone_number_name_update',
  'brand_new_field',
];

/** JSON that looks like Meta's in places: the known fields, with values from anything to almost right. */
const digits = fc.stringMatching(/^[1-9]\d{5,14}$/);
const almostMessage = fc.record(
  {
    from: fc.oneof(digits, fc.string(), fc.integer()),
    to: fc.oneof(digits, fc.string()),
    id: fc.oneof(fc.string(), fc.constant('')),
    timestamp: fc.oneof(fc.stringMatching(/^\d{1,12}$/), fc.string(), fc.integer()),
    type: fc.oneof(fc.constantFrom('text', 'image', 'reaction', 'unsupported', 'interactive'), fc.string()),
    text: fc.oneof(fc.record({ body: fc.string() }), fc.jsonValue()),
    referral: fc.oneof(fc.record({ source_type: fc.string(), source_id: fc.string() }), fc.jsonValue()),
    errors: fc.array(fc.record({ code: fc.oneof(fc.integer(), fc.string()), title: fc.string() })),
  },
  { requiredKeys: [] },
);
const almostValue = fc.record(
  {
    messaging_product: fc.constant('whatsapp'),
    metadata: fc.oneof(fc.record({ display_phone_number: digits, phone_number_id: digits }), fc.jsonValue()),
    contacts: fc.array(fc.record({ wa_id: digits, profile: fc.record({ name: fc.string() }) })),
    messages: fc.oneof(fc.array(almostMessage, { maxLength: 4 }), fc.jsonValue()),
    message_echoes: fc.array(almostMessage, { maxLength: 4 }),
    statuses: fc.array(
      fc.record(
        {
          id: fc.string(),
          status: fc.constantFrom('sent', 'delivered', 'read', 'failed', 'deleted', 'x'),
          timestamp: fc.stringMatching(/^\d{1,12}$/),
          recipient_id: fc.oneof(digits, fc.string()),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 4 },
    ),
    state_sync: fc.oneof(
      fc.array(
        fc.record(
          {
            type: fc.string(),
            action: fc.constantFrom('add', 'edit', 'remove', 'x'),
            contact: fc.record({ phone_number: fc.string() }),
          },
          { requiredKeys: [] },
        ),
      ),
      fc.jsonValue(),
    ),
    history: fc.jsonValue(),
    event: fc.oneof(
      fc.constantFrom('PARTNER_ADDED', 'PARTNER_REMOVED', 'ACCOUNT_OFFBOARDED', 'ACCOUNT_RECONNECTED'),
      fc.string(),
    ),
    phone_number: fc.oneof(digits, fc.string()),
    display_phone_number: digits,
    current_limit: fc.string(),
    waba_info: fc.record({ waba_id: fc.oneof(digits, fc.string()) }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);
const metaLike = fc.record({
  object: fc.oneof(fc.constant('whatsapp_business_account'), fc.string()),
  entry: fc.array(
    fc.record(
      {
        id: fc.oneof(digits, fc.integer()),
        time: fc.oneof(fc.integer(), fc.string()),
        changes: fc.array(
          fc.record({ field: fc.oneof(fc.constantFrom(...FIELDS), fc.string()), value: fc.oneof(almostValue, fc.jsonValue()) }),
          { maxLength: 4 },
        ),
      },
      { requiredKeys: [] },
    ),
    { maxLength: 3 },
  ),
});

/** What the route does with a signed body: the JSON guard, the envelope schema, then routing. */
function parseAndRoute(json: unknown, numbers: NumberCheck = ANY_NUMBER) {
  try {
    assertSafeJson(json);
  } catch (err) {
    expect((err as { status?: number }).status).toBe(400);
    return undefined;
  }
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) return undefined;
  return routeChanges(parsed.data, 1_764_700_000_000, numbers);
}

test('any JSON: the parser answers, never throws', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), (json) => void parseAndRoute(json)),
    { numRuns: 2000 },
  );
});

test('Meta-like webhooks with anything in their values: every change is routed or classified, never thrown on', () => {
  fc.assert(
    fc.property(metaLike, (json) => {
      // The registry holds the numbers ending in an even digit, under the WABA "1".
      const routed = parseAndRoute(json, (id, waba) =>
        Number(id.at(-1)) % 2 === 1 ? `unknown_number:${id}` : waba !== '1' ? `foreign_number:${id}` : undefined,
      );
      if (!routed) return;
      const changes = (json.entry ?? []).reduce((n, e) => n + (Array.isArray(e.changes) ? e.changes.length : 0), 0);
      expect(routed.changes).toHaveLength(changes);
    }),
    { numRuns: 800 },
  );
});

test('well-formed customer messages are accepted and each goes to its own conversation, in order', () => {
  const message = fc.record({
    from: digits,
    id: fc.stringMatching(/^wamid\.[A-Za-z0-9]{10,40}$/),
    text: fc.string({ minLength: 1, maxLength: 200 }).filter((s) => !s.includes('\u0000')),
  });
  fc.assert(
    fc.property(digits, fc.array(message, { minLength: 1, maxLength: 8 }), (phoneNumberId, messages) => {
      const body = {
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '1',
            time: 1,
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
                  messages: messages.map((m) => ({
                    from: m.from,
                    id: m.id,
                    timestamp: '1764700000',
                    type: 'text',
                    text: { body: m.text },
                  })),
                },
              },
            ],
          },
        ],
      };
      const routed = parseAndRoute(JSON.parse(JSON.stringify(body)));
      expect(routed?.unrouted).toEqual([]);
      expect(routed!.conversations.map((c) => c.workflowId)).toEqual(
        messages.map((m) => conversationWorkflowId(phoneNumberId, m.from)),
      );
      expect(routed!.conversations.map((c) => (c.event as any).message.id)).toEqual(messages.map((m) => m.id));
    }),
    { numRuns: 500 },
  );
});
