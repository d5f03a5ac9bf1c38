/**
 * The OpenAPI 3.1 document, generated with zod's `z.toJSONSchema` from each resource's schemas
 * (api/<resource>/schemas.ts, requests and answers): nothing in it is written by hand but the
 * summaries. ROUTES is the one table of routes: the document is built from it, and a test checks it
 * against the routes the express app really has.
 */
import { z } from 'zod';
import { version } from '../../package.json';
import { codecPayloadsSchema, codecRequestSchema } from '../codec/schemas';
import * as contacts from '../contacts/schemas';
import * as conversations from '../conversations/schemas';
import { degradedSchema, healthySchema } from '../health/schemas';
import { IDEMPOTENCY_KEY, IDEMPOTENCY_TTL_MS } from '../http/idempotency';
import { errorSchema, timelineEntrySchema } from '../http/schemas';
import * as onboardings from '../onboardings/schemas';
import * as quarantine from '../ops/quarantine-schemas';
import * as ops from '../ops/schemas';
import * as templates from '../templates/schemas';
import * as webhooks from '../webhooks/schemas';
import { EXAMPLES, RAW_DELIVERY_EXAMPLE } from './examples';
import { openApiDocumentSchema } from './schemas';

export type Method = 'get' | 'post';
type Auth = 'backend' | 'ops' | 'metaSignature' | 'none';
/** 405 is on every route (methodNotAllowed), and 409 on every idempotent one: neither is listed by hand. */
type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 502 | 503;
type MediaType = 'application/json' | 'text/plain' | 'text/html';

interface Answer {
  description: string;
  schema: z.ZodType;
  /** application/json unless said. */
  mediaType?: MediaType;
  /** Response headers by name, each with its description (strings). */
  headers?: Record<string, string>;
  example?: unknown;
}

export interface RouteDoc {
  method: Method;
  /** As express registers it, e.g. `/onboardings/:phoneNumber`. */
  path: string;
  operationId: string;
  summary: string;
  tag: 'onboardings' | 'conversations' | 'templates' | 'contacts' | 'ops' | 'webhooks' | 'service';
  auth: Auth;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Partial<Record<200 | 201 | 202 | 503, Answer>>;
  /** The error statuses the route can answer, each with the error envelope. */
  errors: ErrorStatus[];
  /** Takes `Idempotency-Key` (a POST that creates or changes something: api/http/idempotency.ts). */
  idempotent?: true;
}

/** Request bodies and response bodies by component name (requests read as input, responses as output). */
const REQUEST_COMPONENTS = {
  StartOnboarding: onboardings.startOnboardingSchema,
  OnboardingSettings: onboardings.onboardingSettingsSchema,
  Prerequisites: onboardings.prerequisitesSchema,
  SignupResult: onboardings.signupResultSchema,
  UserEvent: onboardings.userEventSchema,
  SendMessage: conversations.sendMessageSchema,
  OutboundContent: conversations.outboundContentSchema,
  OpsAction: ops.actionSchema,
  QuarantineReplay: quarantine.replaySchema,
  MetaWebhookEnvelope: webhooks.envelopeSchema,
  CodecPayloads: codecRequestSchema,
};

const RESPONSE_COMPONENTS = {
  Error: errorSchema,
  TimelineEntry: timelineEntrySchema,
  Blocked: onboardings.blockedSchema,
  StatusCard: onboardings.statusCardSchema,
  OnboardingView: onboardings.onboardingViewSchema,
  ConversationView: conversations.conversationViewSchema,
  SendAnswer: conversations.sendAnswerSchema,
  MessageRecord: conversations.messageRecordSchema,
  MessagePage: conversations.messagePageSchema,
  Template: templates.templateSchema,
  TemplateList: templates.templateListSchema,
  TemplateRefresh: templates.templateRefreshSchema,
  Contact: contacts.contactSchema,
  ContactPage: contacts.contactPageSchema,
  OrphanStatusList: conversations.orphanStatusListSchema,
  ConversationList: conversations.conversationListSchema,
  ConversationPush: conversations.conversationPushSchema,
  OpsRow: ops.opsRowSchema,
  OpsList: ops.opsListSchema,
  StateValue: ops.stateValueSchema,
  DiagramNode: ops.diagramNodeSchema,
  OpsOnboarding: ops.opsOnboardingSchema,
  OpsOverview: ops.opsOverviewSchema,
  ParkedPage: ops.parkedPageSchema,
  OpsWebhooks: ops.opsWebhooksSchema,
  QuarantineEntry: quarantine.quarantineEntrySchema,
  QuarantineList: quarantine.quarantineListSchema,
  QuarantineInspection: quarantine.quarantineInspectionSchema,
  ReplayAnswer: quarantine.replayAnswerSchema,
  WebhookAnswer: webhooks.webhookAnswerSchema,
  Healthy: healthySchema,
  Degraded: degradedSchema,
  OpenApiDocument: openApiDocumentSchema,
  CodecPayloadsAnswer: codecPayloadsSchema,
};

const json = (description: string, schema: z.ZodType): Answer => ({ description, schema });
const onboarding = (description: string) => json(description, onboardings.onboardingViewSchema);
const inspected = (description: string) => json(description, ops.opsOnboardingSchema);
const JSON_BODY_ERRORS: ErrorStatus[] = [400, 401, 404, 409, 413, 415, 503];

export const ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/',
    operationId: 'getLanding',
    tag: 'service',
    auth: 'none',
    summary: 'A landing page linking the API docs, the ops page and the Temporal Web UI',
    responses: { 200: { description: 'the landing page', schema: z.string(), mediaType: 'text/html' } },
    errors: [],
  },
  {
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    tag: 'service',
    auth: 'none',
    summary: 'Liveness of the API and reachability of Temporal',
    responses: {
      200: json('Temporal is serving', healthySchema),
      503: json('Temporal cannot be reached', degradedSchema),
    },
    errors: [],
  },
  {
    method: 'get',
    path: '/ops',
    operationId: 'getOpsPage',
    tag: 'ops',
    auth: 'none',
    summary: 'The ops page (it asks for an ops token before it shows anything)',
    responses: { 200: { description: 'the ops page', schema: z.string(), mediaType: 'text/html' } },
    errors: [],
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    tag: 'service',
    auth: 'none',
    summary: 'Prometheus metrics of the process, and onboarding gauges from Temporal visibility',
    responses: { 200: { description: 'Prometheus text exposition format', schema: z.string(), mediaType: 'text/plain' } },
    errors: [],
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    tag: 'service',
    auth: 'none',
    summary: 'This document',
    responses: { 200: json('OpenAPI 3.1', openApiDocumentSchema) },
    errors: [],
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'getDocs',
    tag: 'service',
    auth: 'none',
    summary: 'This document as an HTML page',
    responses: {
      200: { description: 'the operations with their parameters and schemas', schema: z.string(), mediaType: 'text/html' },
    },
    errors: [],
  },
  {
    method: 'post',
    path: '/onboardings',
    operationId: 'startOnboarding',
    idempotent: true,
    tag: 'onboardings',
    auth: 'backend',
    summary: 'Start the onboarding of a number (idempotent)',
    body: onboardings.startOnboardingSchema,
    responses: { 200: onboarding('the live onboarding of the number'), 201: onboarding('started') },
    errors: [400, 401, 413, 415, 503],
  },
  {
    method: 'get',
    path: '/onboardings/:phoneNumber',
    operationId: 'getOnboarding',
    tag: 'onboardings',
    auth: 'backend',
    summary: 'Stage, state, blocked reason and remedy, linking, sync, status card, timeline',
    params: onboardings.phoneNumberParamsSchema,
    responses: { 200: onboarding('the onboarding') },
    errors: [400, 401, 404, 503],
  },
  {
    method: 'post',
    path: '/onboardings/:phoneNumber/prerequisites',
    operationId: 'reportPrerequisites',
    idempotent: true,
    tag: 'onboardings',
    auth: 'backend',
    summary: 'What the user reported of the "Before you start" checks',
    params: onboardings.phoneNumberParamsSchema,
    body: onboardings.prerequisitesSchema,
    responses: { 200: onboarding('the onboarding after the event') },
    errors: JSON_BODY_ERRORS,
  },
  {
    method: 'post',
    path: '/onboardings/:phoneNumber/signup',
    operationId: 'reportSignup',
    idempotent: true,
    tag: 'onboardings',
    auth: 'backend',
    summary: 'What the Embedded Signup page received: finished with the code, or cancelled',
    params: onboardings.phoneNumberParamsSchema,
    body: onboardings.signupResultSchema,
    responses: { 200: onboarding('the onboarding after the event') },
    errors: JSON_BODY_ERRORS,
  },
  {
    method: 'post',
    path: '/onboardings/:phoneNumber/events',
    operationId: 'sendOnboardingEvent',
    idempotent: true,
    tag: 'onboardings',
    auth: 'backend',
    summary: 'Something the user did: QR scanned, code entered, payment added, retry, cancel, …',
    params: onboardings.phoneNumberParamsSchema,
    body: onboardings.userEventSchema,
    responses: { 200: onboarding('the onboarding after the event') },
    errors: JSON_BODY_ERRORS,
  },
  {
    method: 'post',
    path: '/numbers/:phoneNumberId/conversations/:waId/messages',
    operationId: 'sendMessage',
    idempotent: true,
    tag: 'conversations',
    auth: 'backend',
    summary: 'Send a message; a repeated clientMessageId is the same message',
    params: conversations.conversationParamsSchema,
    body: conversations.sendMessageSchema,
    responses: { 202: json('queued for the number’s sender', conversations.sendAnswerSchema) },
    errors: [400, 401, 409, 413, 415, 429, 503],
  },
  {
    method: 'get',
    path: '/numbers/:phoneNumberId/conversations/:waId',
    operationId: 'getConversation',
    tag: 'conversations',
    auth: 'backend',
    summary: 'The windows (customer service, free entry point, inbox), what may be sent, message counts',
    params: conversations.conversationParamsSchema,
    responses: { 200: json('the conversation', conversations.conversationViewSchema) },
    errors: [400, 401, 404, 503],
  },
  {
    method: 'get',
    path: '/numbers/:phoneNumberId/conversations/:waId/messages',
    operationId: 'listMessages',
    tag: 'conversations',
    auth: 'backend',
    summary: 'One page of the conversation’s messages, from the message store',
    params: conversations.conversationParamsSchema,
    query: conversations.listMessagesQuerySchema,
    responses: { 200: json('a page; follow nextCursor for the next', conversations.messagePageSchema) },
    errors: [400, 401],
  },
  {
    method: 'get',
    path: '/numbers/:phoneNumberId/conversations/:waId/messages/:messageId/raw',
    operationId: 'getMessageRaw',
    tag: 'conversations',
    auth: 'backend',
    summary:
      'The bytes a message came in: the whole webhook delivery exactly as Meta sent it, with where the message is in it (headers); 404 raw_not_kept for a platform send or a delivery past the inbox’s retention',
    params: conversations.messageParamsSchema,
    responses: {
      200: {
        description: 'the delivery as received, byte for byte (it may hold other items beside this message)',
        schema: conversations.rawDeliverySchema,
        headers: conversations.RAW_MESSAGE_HEADERS,
        example: RAW_DELIVERY_EXAMPLE,
      },
    },
    errors: [400, 401, 404],
  },
  {
    method: 'get',
    path: '/numbers/:phoneNumberId/templates',
    operationId: 'listTemplates',
    tag: 'templates',
    auth: 'backend',
    summary: 'The number’s message templates as Meta last reported them, and whether each can be sent',
    params: templates.numberParamsSchema,
    query: templates.listTemplatesQuerySchema,
    responses: { 200: json('the templates of the number’s WABA', templates.templateListSchema) },
    errors: [400, 401, 404, 503],
  },
  {
    method: 'post',
    path: '/numbers/:phoneNumberId/templates/refresh',
    operationId: 'refreshTemplates',
    tag: 'templates',
    auth: 'backend',
    summary: 'Read the WABA’s templates from Meta now (besides the status webhooks that keep them current)',
    params: templates.numberParamsSchema,
    responses: { 200: json('how many templates Meta listed', templates.templateRefreshSchema) },
    errors: [400, 401, 404, 409, 502, 503],
  },
  {
    method: 'get',
    path: '/numbers/:phoneNumberId/contacts',
    operationId: 'listContacts',
    tag: 'contacts',
    auth: 'backend',
    summary: 'The number’s contact book: the phone app’s contacts (synced once, then every change) and customers’ profile names',
    params: contacts.contactParamsSchema,
    query: contacts.listContactsQuerySchema,
    responses: { 200: json('a page; follow nextCursor for the next', contacts.contactPageSchema) },
    errors: [400, 401],
  },
  {
    method: 'get',
    path: '/numbers/:phoneNumberId/conversations',
    operationId: 'listConversations',
    tag: 'conversations',
    auth: 'backend',
    summary: 'The number’s conversations by last activity, with counts and the customer-service window; filter by window',
    params: conversations.numberParamsSchema,
    query: conversations.listConversationsQuerySchema,
    responses: { 200: json('a page; follow nextCursor for the next', conversations.conversationListSchema) },
    errors: [400, 401],
  },
  {
    method: 'get',
    path: '/numbers/:phoneNumberId/conversations/:waId/orphan-statuses',
    operationId: 'listOrphanStatuses',
    tag: 'conversations',
    auth: 'backend',
    summary: 'Statuses Meta reported for messages not (yet) recorded; each moves onto its message when it is',
    params: conversations.conversationParamsSchema,
    query: conversations.listOrphanStatusesQuerySchema,
    responses: { 200: json('the orphan statuses, oldest first', conversations.orphanStatusListSchema) },
    errors: [400, 401],
  },
  {
    method: 'get',
    path: '/ops/parked',
    operationId: 'listParkedEffects',
    tag: 'ops',
    auth: 'ops',
    summary: 'Conversation effects parked so that the events behind them went on: conflicts and failures retrying cannot fix',
    query: ops.parkedQuerySchema,
    responses: { 200: json('a page, newest first; pass nextCursor for the next', ops.parkedPageSchema) },
    errors: [400, 401],
  },
  {
    method: 'get',
    path: '/ops/webhooks',
    operationId: 'getOpsWebhooks',
    tag: 'ops',
    auth: 'ops',
    summary: 'Meta’s webhooks waiting or set aside: the inbox’s depth and dispatch lag, the quarantine’s size, parked effects',
    responses: { 200: json('the counts now', ops.opsWebhooksSchema) },
    errors: [401, 503],
  },
  {
    method: 'get',
    path: '/ops/onboardings',
    operationId: 'listOpsOnboardings',
    tag: 'ops',
    auth: 'ops',
    summary: 'Running onboardings from Temporal visibility, newest first, with stuck and blocked filters',
    query: ops.listQuerySchema,
    responses: { 200: json('a page; pass nextPageToken for the next', ops.opsListSchema) },
    errors: [400, 401, 503],
  },
  {
    method: 'get',
    path: '/ops/overview',
    operationId: 'getOpsOverview',
    tag: 'ops',
    auth: 'ops',
    summary:
      'The funnel: onboardings per stage now, entered and left over the last day, time in stage against its budget; sends and webhooks per minute',
    responses: { 200: json('the overview', ops.opsOverviewSchema) },
    errors: [401, 503],
  },
  {
    method: 'get',
    path: '/ops/onboardings/:phoneNumber',
    operationId: 'inspectOnboarding',
    tag: 'ops',
    auth: 'ops',
    summary: 'Everything an operator needs about one onboarding',
    params: onboardings.phoneNumberParamsSchema,
    responses: { 200: inspected('the onboarding') },
    errors: [400, 401, 404, 503],
  },
  {
    method: 'post',
    path: '/ops/onboardings/:phoneNumber/actions',
    operationId: 'repairOnboarding',
    idempotent: true,
    tag: 'ops',
    auth: 'ops',
    summary: 'A repair, recorded with the operator’s name',
    params: onboardings.phoneNumberParamsSchema,
    body: ops.actionSchema,
    responses: { 200: inspected('the onboarding after the repair') },
    errors: JSON_BODY_ERRORS,
  },
  {
    method: 'get',
    path: '/ops/quarantine',
    operationId: 'listQuarantine',
    tag: 'ops',
    auth: 'ops',
    summary: 'Webhook content no workflow took, newest first, by classification (prefix); kept with the delivery’s bytes',
    query: quarantine.quarantineQuerySchema,
    responses: { 200: json('a page; pass nextCursor for the next', quarantine.quarantineListSchema) },
    errors: [400, 401],
  },
  {
    method: 'get',
    path: '/ops/quarantine/:id',
    operationId: 'inspectQuarantine',
    tag: 'ops',
    auth: 'ops',
    summary: 'One quarantine entry with the delivery as Meta sent it',
    params: quarantine.quarantineParamsSchema,
    responses: { 200: json('the entry', quarantine.quarantineInspectionSchema) },
    errors: [400, 401, 404],
  },
  {
    method: 'post',
    path: '/ops/quarantine/replay',
    operationId: 'replayQuarantine',
    idempotent: true,
    tag: 'ops',
    auth: 'ops',
    summary: 'Routes these entries’ deliveries again, through the same routing and item keys (nothing applied twice)',
    body: quarantine.replaySchema,
    responses: { 200: json('what each replay queued', quarantine.replayAnswerSchema) },
    errors: JSON_BODY_ERRORS,
  },
  ...(['encode', 'decode'] as const).map((direction): RouteDoc => ({
    method: 'post',
    path: `/codec/${direction}`,
    operationId: `${direction}Payloads`,
    tag: 'ops',
    auth: 'ops',
    summary:
      direction === 'encode'
        ? 'Temporal codec server: encrypts payloads with the current PAYLOAD_CODEC_KEYS key'
        : 'Temporal codec server: decrypts payloads for the Web UI and `temporal --codec-endpoint`',
    body: codecRequestSchema,
    responses: { 200: json(`the payloads, ${direction}d, in the same order`, codecPayloadsSchema) },
    errors: [400, 401, 413, 415],
  })),
  {
    method: 'get',
    path: '/webhooks/meta',
    operationId: 'verifyMetaWebhook',
    tag: 'webhooks',
    auth: 'none',
    summary: 'Meta’s verification handshake: answers hub.challenge for our verify token',
    query: webhooks.handshakeSchema,
    responses: { 200: { description: 'hub.challenge', schema: z.string(), mediaType: 'text/plain' } },
    errors: [403],
  },
  {
    method: 'post',
    path: '/webhooks/meta',
    operationId: 'receiveMetaWebhook',
    tag: 'webhooks',
    auth: 'metaSignature',
    summary:
      'Meta’s webhook deliveries; 200 once kept whole in the inbox (dispatched to the workflows after), else Meta redelivers',
    body: webhooks.envelopeSchema,
    responses: {
      200: json('kept: every event queued for its workflow, or classified and kept aside', webhooks.webhookAnswerSchema),
    },
    errors: [400, 401, 413, 415, 503],
  },
];

const SECURITY_SCHEMES = {
  backendApiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'BACKEND_API_KEY' },
  opsToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'One of OPS_TOKENS; the operator’s name is recorded as `by: ops:<name>`.',
  },
  metaSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Hub-Signature-256',
    description: 'Meta’s signature of the raw body: `sha256=<hex HMAC-SHA256 of the bytes as sent, keyed with META_APP_SECRET>`.',
  },
} as const;

const SCHEME_OF: Record<Auth, keyof typeof SECURITY_SCHEMES | undefined> = {
  backend: 'backendApiKey',
  ops: 'opsToken',
  metaSignature: 'metaSignature',
  none: undefined,
};

const UNAUTHORIZED: Record<Auth, string> = {
  backend: '`unauthorized`: no valid X-Api-Key',
  ops: '`unauthorized`: no valid `Authorization: Bearer <ops token>`',
  metaSignature: '`invalid_signature`: X-Hub-Signature-256 missing or wrong',
  none: '',
};

const ERRORS: Record<Exclude<ErrorStatus, 401> | 405, string> = {
  400: '`invalid_request` names the field (`body.…`, `params.…`, `query.…`, `headers.…`); `invalid_json`: the body is not JSON; `invalid_encoding`: the body is not valid UTF-8; `undecodable_payload`: a codec payload whose key is unknown or whose ciphertext does not authenticate',
  403: '`forbidden`: not Meta’s verification handshake for this app: hub.mode is not `subscribe`, a parameter is missing, repeated or bracketed, or hub.verify_token is not ours',
  404: '`not_found`: no such onboarding or conversation, or no running onboarding holds the phone number id',
  409: 'The current state cannot take it: `event_refused`, `onboarding_closed`, or the machine’s own refusal (e.g. `customer_service_window_closed`) with a `hint`; `template_not_sendable`: Meta reported the template rejected, paused or disabled; `number_not_connected`: the number has no business token yet (Embedded Signup not finished)',
  405: '`method_not_allowed`: the path has no such method; `Allow` lists the ones it has',
  413: '`payload_too_large`',
  415: '`unsupported_media_type`: the body is not declared application/json; `unsupported_encoding`: a charset other than UTF-8 (UTF-16 too on the backend’s routes; Meta’s signed webhooks only UTF-8), or a Content-Encoding the API cannot read',
  429: '`send_queue_full`: the number’s send queue holds SEND_QUEUE_DEPTH_LIMIT sends; `Retry-After` (seconds) says when to try again, `depth` how many wait',
  502: '`meta_api_error`: Meta refused or failed the call coexist made for the request (its message says why)',
  503: '`temporal_unavailable`: Temporal cannot be reached; retry later',
};

const IDEMPOTENCY_CONFLICTS =
  '`idempotency_key_reused`: this Idempotency-Key came with a different request (method, path or body) in the last 24 h; `idempotency_key_in_use`: the first request with this key is still being answered, retry';

/** The `Idempotency-Key` header parameter of an idempotent route. */
const IDEMPOTENCY_PARAMETER = {
  name: 'Idempotency-Key',
  in: 'header' as const,
  required: false,
  description: `Any 1–255 visible ASCII characters (a UUID, say). The first answer to a request with this key is kept ${IDEMPOTENCY_TTL_MS / 3_600_000} h: a repeat of the same request (method, path, body) gets it again with \`Idempotent-Replayed: true\`; a different request under the same key is 409. Answers of 5xx are not kept.`,
  schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source },
};

/** On an answer that repeats the first one given to the request's Idempotency-Key. */
const REPLAYED_HEADERS = {
  'Idempotent-Replayed': {
    description: '`true` when this is the kept first answer to the request’s Idempotency-Key',
    schema: { type: 'string', enum: ['true'] },
  },
};

export type JsonSchema = Record<string, unknown>;

const stringHeaders = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]));

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  tags: string[];
  security?: Record<string, string[]>[];
  parameters?: {
    name: string;
    in: 'path' | 'query' | 'header';
    required: boolean;
    schema: JsonSchema;
    description?: string;
    example?: string;
  }[];
  requestBody?: { required: true; content: Record<string, { schema: JsonSchema; example?: unknown }> };
  responses: Record<
    string,
    {
      description: string;
      headers?: Record<string, { description: string; schema: JsonSchema }>;
      content?: Record<string, { schema: JsonSchema }>;
    }
  >;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  /** The API's own URL, as the request for the document reached it (api/openapi/routes.ts). */
  servers?: { url: string; description?: string }[];
  jsonSchemaDialect: string;
  paths: Record<string, Partial<Record<Method, OpenApiOperation>>>;
  /** What coexist POSTs to the backend (OpenAPI 3.1 webhooks). */
  webhooks: Record<
    string,
    { post: { operationId: string; summary: string; description: string; requestBody: unknown; responses: unknown } }
  >;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: typeof SECURITY_SCHEMES };
}

const SCHEMA_URI = '#/components/schemas/';
const registries = { input: registryOf(REQUEST_COMPONENTS), output: registryOf(RESPONSE_COMPONENTS) };

function registryOf(named: Record<string, z.ZodType>) {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  return registry;
}

/** Leaves out what only adds noise to a reader: zod's datetime regex (the format says it) and the safe-integer bounds of every int. */
function tidy({ jsonSchema: s }: { jsonSchema: JsonSchema }) {
  if (s.format === 'date-time') delete s.pattern;
  if (s.minimum === Number.MIN_SAFE_INTEGER) delete s.minimum;
  if (s.maximum === Number.MAX_SAFE_INTEGER) delete s.maximum;
}

function componentSchemas(io: 'input' | 'output'): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(registries[io], { io, uri: (id) => `${SCHEMA_URI}${id}`, override: tidy });
  // Each comes out as a document of its own; inside components it is a plain schema.
  return Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _s, $id: _i, ...schema }]) => [id, schema]));
}

/** A named component by $ref, anything else inline. */
function schemaFor(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const id = registries[io].get(schema)?.id;
  if (id) return { $ref: `${SCHEMA_URI}${id}` };
  const { $schema: _s, ...inline } = z.toJSONSchema(schema, { io, override: tidy });
  return inline;
}

function parameters(
  schema: z.ZodObject | undefined,
  where: 'path' | 'query',
  examples: Record<string, string> = {},
): NonNullable<OpenApiOperation['parameters']> {
  if (!schema) return [];
  const object = schemaFor(schema, 'input') as { properties: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (object.required ?? []).includes(name),
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
    schema: s,
    ...(examples[name] !== undefined ? { example: examples[name] } : {}),
  }));
}

const content = (mediaType: MediaType, schema: JsonSchema) => ({ [mediaType]: { schema } });

function operation(route: RouteDoc): OpenApiOperation {
  const scheme = SCHEME_OF[route.auth];
  const example = EXAMPLES[route.operationId] ?? {};
  const params = [
    ...parameters(route.params, 'path', example.params),
    ...parameters(route.query, 'query', example.query),
    ...(route.idempotent ? [IDEMPOTENCY_PARAMETER] : []),
  ];
  const responses: OpenApiOperation['responses'] = {};
  for (const [status, answer] of Object.entries(route.responses)) {
    responses[status] = {
      description: answer.description,
      ...(route.idempotent ? { headers: REPLAYED_HEADERS } : {}),
      ...(answer.headers ? { headers: stringHeaders(answer.headers) } : {}),
      content: {
        [answer.mediaType ?? 'application/json']: {
          schema: schemaFor(answer.schema, 'output'),
          ...(answer.example !== undefined ? { example: answer.example } : {}),
        },
      },
    };
  }
  const error = content('application/json', { $ref: `${SCHEMA_URI}Error` });
  for (const status of route.errors) {
    const description = status === 401 ? UNAUTHORIZED[route.auth] : ERRORS[status];
    responses[status] = { description, content: error };
  }
  if (route.idempotent) {
    const conflicts = route.errors.includes(409) ? `${ERRORS[409]}; ${IDEMPOTENCY_CONFLICTS}` : IDEMPOTENCY_CONFLICTS;
    responses[409] = { description: conflicts, content: error };
  }
  responses[405] = {
    description: ERRORS[405],
    headers: { Allow: { description: 'the methods the path has, e.g. `GET, HEAD`', schema: { type: 'string' } } },
    content: error,
  };
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(scheme ? { security: [{ [scheme]: [] }] } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: true as const,
            content: { 'application/json': { schema: schemaFor(route.body, 'input'), example: example.body } },
          },
        }
      : {}),
    responses,
  };
}

/** `/onboardings/:phoneNumber` → `/onboardings/{phoneNumber}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:(\w+)/g, '{$1}');
}

function buildDocument(): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const route of ROUTES) {
    const path = openApiPath(route.path);
    if (paths[path]?.[route.method]) throw new Error(`${route.method} ${route.path} is twice in ROUTES`);
    paths[path] = { ...paths[path], [route.method]: operation(route) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'coexist',
      version,
      description:
        'WhatsApp Business Coexistence: onboardings, conversations, ops and Meta webhooks. Every error is `{ error: { code, message, field?, hint? } }`.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    webhooks: {
      conversationPush: {
        post: {
          operationId: 'conversationPush',
          summary: 'A conversation event pushed to BACKEND_CALLBACK_URL (the kinds named in BACKEND_PUSH_EVENTS)',
          description:
            'Signed with BACKEND_CALLBACK_SECRET in `X-Coexist-Signature` (sha256=<hex HMAC of the body>); retried with backoff until the backend answers 2xx; in order per `conversationId` (a later push waits for an earlier one to be accepted); `deliveryId` is the same on every attempt.',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: `${SCHEMA_URI}ConversationPush` } } } },
          responses: { '2XX': { description: 'accepted: the next push of the conversation follows' } },
        },
      },
    },
    components: { schemas: { ...componentSchemas('input'), ...componentSchemas('output') }, securitySchemes: SECURITY_SCHEMES },
  };
}

let built: OpenApiDocument | undefined;

/** The document (built once: it depends on nothing but the code). */
export function openApiDocument(): OpenApiDocument {
  built ??= buildDocument();
  return built;
}
