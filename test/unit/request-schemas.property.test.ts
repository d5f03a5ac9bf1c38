/**
 * Property-based fuzzing (fast-check) of the request schemas: for any input, parsing a request part
 * either succeeds or throws the API's 400 naming a field, never anything else; valid generated
 * requests are accepted; the JSON guard refuses exactly NUL, `__proto__` and excessive nesting.
 */
import fc from 'fast-check';
import type { z } from 'zod';
import { ApiError, parseRequest } from '../../api/http/errors';
import { assertSafeJson, MAX_JSON_DEPTH } from '../../api/http/json-body';
import { ROUTES } from '../../api/openapi/document';
import { codecRequestSchema } from '../../api/codec/schemas';
import { conversationParamsSchema, listMessagesQuerySchema, sendMessageSchema } from '../../api/conversations/schemas';
import { prerequisitesSchema, signupResultSchema, startOnboardingSchema, userEventSchema } from '../../api/onboardings/schemas';

type Part = 'body' | 'params' | 'query';

/** Every schema a route parses a request part with (ROUTES: a new route's are fuzzed too). */
const schemas = [
  ...new Map(
    ROUTES.flatMap((r) =>
      (['body', 'params', 'query'] as const)
        .filter((part) => r[part])
        .map((part) => [r[part]!, [`${r.operationId} ${part}`, r[part]!, part]] as const),
    ),
  ).values(),
] as [string, z.ZodType, Part][];

test('the routes parse with a dozen distinct schemas', () => {
  expect(schemas.length).toBeGreaterThanOrEqual(12);
});

/** Parses like a route; anything thrown must be the 400 naming a field of that part. */
function parses(schema: z.ZodType, value: unknown, part: Part): boolean {
  try {
    parseRequest(schema, value, part);
    return true;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      status: 400,
      code: 'invalid_request',
      field: expect.stringMatching(new RegExp(`^${part}(\\.|$)`)),
    });
    return false;
  }
}

/** Near-valid objects: the schemas' own keys with values of any type, plus strangers. */
const KEYS = [
  'phoneNumber',
  'settings',
  'appVersion',
  'hasBusinessPortfolio',
  'connectedElsewhere',
  'event',
  'code',
  'data',
  'type',
  'clientMessageId',
  'message',
  'action',
  'to',
  'payloads',
  'limit',
  'cursor',
  'order',
  'stage',
  'stuck',
  'pageToken',
  'phoneNumberId',
  'waId',
  'hub.mode',
  'hub.challenge',
  'hub.verify_token',
  '__proto__',
  'constructor',
  'toString',
];
const nearValid = fc.dictionary(fc.constantFrom(...KEYS), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 });
const queryLike = fc.dictionary(fc.constantFrom(...KEYS), fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 })), {
  maxKeys: 5,
});

test.each(schemas)('%s: any input parses or is a 400 naming the field', (_name, schema, part) => {
  fc.assert(
    fc.property(fc.oneof(fc.anything(), fc.jsonValue(), nearValid, queryLike), (value) => void parses(schema, value, part)),
    { numRuns: 400 },
  );
});

/** Numbers of a few countries, of a length each uses, in the forms the API reads (+…, 00…, bare digits, punctuated). */
const writtenPhoneNumber = fc
  .tuple(
    fc.constantFrom(['1', 10], ['44', 10], ['55', 11], ['91', 10], ['49', 11]),
    fc.stringMatching(/^[2-9]\d{10}$/),
    fc.constantFrom('+', '00', ''),
  )
  .map(([[cc, length], digits, prefix]) => `${prefix}${cc}${digits.slice(0, length as number)}`);
const metaId = fc.stringMatching(/^[1-9]\d{0,20}$/);

test('valid generated requests are accepted', () => {
  const valid: [z.ZodType, fc.Arbitrary<unknown>, Part][] = [
    [
      startOnboardingSchema,
      fc.record(
        {
          phoneNumber: writtenPhoneNumber,
          settings: fc.record(
            { maxLinkingAttempts: fc.integer({ min: 1, max: 20 }), linkingMethod: fc.constantFrom('qr', 'code') },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: ['phoneNumber'] },
      ),
      'body',
    ],
    [
      prerequisitesSchema,
      fc.record({
        appVersion: fc.stringMatching(/^\d{1,3}(\.\d{1,3}){1,3}$/),
        hasBusinessPortfolio: fc.boolean(),
        connectedElsewhere: fc.boolean(),
      }),
      'body',
    ],
    [
      signupResultSchema,
      fc.record({
        event: fc.constant('FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING'),
        code: fc.string({ minLength: 1, maxLength: 2048 }),
        data: fc.record({ waba_id: metaId }),
      }),
      'body',
    ],
    [
      userEventSchema,
      fc
        .constantFrom('qrScanned', 'codeEntered', 'refreshLinking', 'paymentAdded', 'refreshStatusCard', 'retry', 'cancel')
        .map((type) => ({ type })),
      'body',
    ],
    [
      sendMessageSchema,
      fc.record({
        clientMessageId: fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/),
        message: fc.record({
          type: fc.constant('text'),
          text: fc.record({ body: fc.string({ minLength: 1, maxLength: 4096 }) }),
        }),
      }),
      'body',
    ],
    [conversationParamsSchema, fc.record({ phoneNumberId: metaId, waId: fc.stringMatching(/^\d{6,20}$/) }), 'params'],
    [
      listMessagesQuerySchema,
      fc.record(
        { limit: fc.integer({ min: 1, max: 200 }).map(String), order: fc.constantFrom('asc', 'desc') },
        { requiredKeys: [] },
      ),
      'query',
    ],
    [
      codecRequestSchema,
      fc.record({
        payloads: fc.array(
          fc.record({
            metadata: fc.dictionary(
              fc.string({ maxLength: 20 }),
              fc.uint8Array().map((b) => Buffer.from(b).toString('base64')),
            ),
            data: fc.uint8Array().map((b) => Buffer.from(b).toString('base64')),
          }),
          { maxLength: 5 },
        ),
      }),
      'body',
    ],
  ];
  for (const [schema, arbitrary, part] of valid) {
    fc.assert(
      fc.property(arbitrary, (value) => expect(parses(schema, value, part)).toBe(true)),
      { numRuns: 200 },
    );
  }
});

test('the JSON guard: plain JSON within the depth passes; NUL, __proto__ or deeper nesting is a 400', () => {
  const clean = fc
    .jsonValue({ maxDepth: 8 })
    .filter((v) => !JSON.stringify(v).includes('\\u0000') && !JSON.stringify(v).includes('"__proto__"'));
  fc.assert(
    fc.property(clean, (value) => void assertSafeJson(value)),
    { numRuns: 500 },
  );
  const nested = (levels: number) => JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`);
  expect(() => assertSafeJson(nested(MAX_JSON_DEPTH))).not.toThrow();
  const refused = (value: unknown) => {
    expect(() => assertSafeJson(value)).toThrow(ApiError);
  };
  fc.assert(
    fc.property(fc.string(), fc.string(), fc.integer({ min: MAX_JSON_DEPTH + 1, max: 5000 }), (a, b, depth) => {
      refused({ x: [`${a}\u0000${b}`] });
      refused({ [`${a}\u0000`]: b });
      refused(JSON.parse(`{"a":{"__proto__":${JSON.stringify(b)}}}`));
      refused(JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`));
    }),
    { numRuns: 200 },
  );
});
