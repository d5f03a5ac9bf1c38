/**
 * A Meta Graph API simulator: the endpoints coexist's activities call, with Meta's payloads and
 * error envelope, plus `/_sim` control endpoints that play the phone and the user, switch faults
 * on, and move the clock. A separate express app: it shares no code with what it simulates.
 */
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { DEFAULT_PAIR_RATE, registerMessaging, type PairRate } from './messaging';
import { registerTemplates, TemplateCatalogue } from './templates';
import { WebhookOutbox } from './webhooks';
import {
  CODE_TTL_MS,
  LINKING_CODE_TTL_MS,
  MetaError,
  MIN_APP_VERSION,
  SYNC_WINDOW_MS,
  World,
  seededRandom,
  versionAtLeast,
  type SimNumber,
} from './world';

export interface SimulatorOptions {
  appId: string;
  appSecret: string;
  /** Where webhooks go (coexist's `POST /webhooks/meta`); settable later by `/_sim/webhook-target`. */
  webhookUrl?: string;
  /** How long health data lags a link (Meta's lag after FINISH). */
  healthLagMs?: number;
  /** Pending webhooks are retried this often; 0 = only on `/_sim/webhooks/redeliver`. */
  webhookRetryIntervalMs?: number;
  /** Coexistence send rate (messages per second per number, over any one second). */
  messagesPerSecond?: number;
  /** Messages to one customer before 131056; `false` = no pair rate. Default 45 within 6 s. */
  pairRate?: PairRate | false;
}

interface Faults {
  errorRate: number;
  throttleRate: number;
  latencyMs: number;
  /** Endpoints whose next call applies its change, then drops the connection (a timeout after the change); once each. */
  dropAfterApply: string[];
  /** Endpoints the faults apply to; empty = all. */
  endpoints: string[];
  random: () => number;
}

const noFaults = (): Faults => ({
  errorRate: 0,
  throttleRate: 0,
  latencyMs: 0,
  dropAfterApply: [],
  endpoints: [],
  random: seededRandom(1),
});

export function createSimulator(options: SimulatorOptions) {
  const world = new World(options.healthLagMs ?? 0);
  const outbox = new WebhookOutbox(options.appSecret, options.webhookUrl, options.webhookRetryIntervalMs ?? 1_000);
  const calls = new Map<string, number>();
  /** Every Graph API request per `METHOD endpoint`, applied, refused or faulted: what the callers tried. */
  const requests = new Map<string, number>();
  let faults = noFaults();

  const count = (endpoint: string, n: SimNumber | undefined) => {
    const key = `${endpoint}${n ? `:${n.phoneNumber}` : ''}`;
    calls.set(key, (calls.get(key) ?? 0) + 1);
  };
  const seconds = () => Math.floor(world.clock.now() / 1000);
  /** Resolves after the first delivery attempt; never rejects (what fails stays pending). */
  const webhook = (n: SimNumber, field: string, value: unknown) => outbox.send(n.wabaId, field, value, seconds());
  const display = (n: SimNumber) => n.phoneNumber.replace(/^\+/, '');

  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '1mb' }));

  // --- Graph API ---------------------------------------------------------------------------------
  const graph = express.Router({ mergeParams: true });

  /** Latency, injected errors and throttling, per endpoint name. */
  const faulty = (endpoint: string) => async (req: Request, res: Response, next: NextFunction) => {
    (req as Request & { endpoint?: string }).endpoint = endpoint;
    const key = `${req.method} ${endpoint}`;
    requests.set(key, (requests.get(key) ?? 0) + 1);
    const applies = faults.endpoints.length === 0 || faults.endpoints.includes(endpoint);
    if (applies && faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs));
    if (applies && faults.random() < faults.errorRate)
      return sendError(res, new MetaError(500, 2, 'Service temporarily unavailable'));
    if (applies && faults.random() < faults.throttleRate) {
      res.setHeader('retry-after', '1');
      return sendError(res, new MetaError(429, 80007, 'Rate limit issues'));
    }
    next();
  };

  /** After a change is applied: answer, or drop the connection as a timeout would. */
  const answer = (req: Request, res: Response, body: unknown) => {
    const endpoint = (req as Request & { endpoint?: string }).endpoint ?? '';
    if (faults.dropAfterApply.includes(endpoint)) {
      faults.dropAfterApply = faults.dropAfterApply.filter((e) => e !== endpoint);
      res.socket?.destroy();
      return;
    }
    res.json(body);
  };

  const bearer = (req: Request): string => {
    const token = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
    if (!token || !world.tokens.has(token))
      throw new MetaError(401, 190, 'Invalid OAuth access token - Cannot parse access token');
    return world.tokens.get(token)!;
  };

  const numberFor = (req: Request, id: string): SimNumber => {
    const wabaId = bearer(req);
    const n = world.byPhoneNumberId(id);
    if (!n || n.wabaId !== wabaId)
      throw new MetaError(400, 100, `Unsupported get request. Object with ID '${id}' does not exist`);
    return n;
  };

  graph.get('/oauth/access_token', faulty('oauth/access_token'), (req, res) => {
    const { client_id, client_secret, code } = req.query as Record<string, string | undefined>;
    if (client_id !== options.appId || client_secret !== options.appSecret)
      throw new MetaError(400, 101, 'Error validating client secret.');
    const grant = code ? world.codes.get(code) : undefined;
    if (!grant) throw new MetaError(400, 100, 'Invalid verification code format.');
    if (grant.used) throw new MetaError(400, 100, 'This authorization code has been used.');
    if (world.clock.now() > grant.expiresAt) throw new MetaError(400, 100, 'This authorization code has expired.');
    grant.used = true;
    const n = world.numbers.get(grant.phoneNumber)!;
    const token = world.secret('EAAG');
    world.tokens.set(token, n.wabaId);
    res.json({ access_token: token, token_type: 'bearer' });
  });

  graph.get('/:wabaId/phone_numbers', faulty('waba/phone_numbers'), (req, res) => {
    const wabaId = bearer(req);
    if (req.params.wabaId !== wabaId) throw new MetaError(403, 200, 'Permissions error');
    const data = world.byWaba(wabaId).map((n) => ({
      id: n.phoneNumberId,
      display_phone_number: n.listedAs !== undefined ? n.listedAs.replace(/^\+/, '') : display(n),
      verified_name: n.verifiedName,
      status: world.onCloudApi(n) ? 'CONNECTED' : 'PENDING',
      is_on_biz_app: !n.partnerRemoved,
      platform_type: world.onCloudApi(n) ? 'CLOUD_API' : 'NOT_APPLICABLE',
    }));
    res.json({ data, paging: { cursors: { before: 'MAZDZD', after: 'MjQZD' } } });
  });

  graph.post('/:wabaId/subscribed_apps', faulty('waba/subscribed_apps'), (req, res) => {
    const wabaId = bearer(req);
    if (req.params.wabaId !== wabaId) throw new MetaError(403, 200, 'Permissions error');
    for (const n of world.byWaba(wabaId)) {
      if (!n.appSubscribed) count('subscribed_apps', n);
      n.appSubscribed = true;
    }
    answer(req, res, { success: true });
  });

  graph.post('/:phoneNumberId/register', faulty('register'), (req) => {
    numberFor(req, req.params.phoneNumberId as string);
    throw new MetaError(400, 100, 'Registration is not available for numbers already registered in the WhatsApp Business app.');
  });

  graph.post('/:phoneNumberId/deregister', faulty('deregister'), (req) => {
    numberFor(req, req.params.phoneNumberId as string);
    throw new MetaError(400, 100, 'Deregister endpoint is not available for API solution for SMB businesses.');
  });

  graph.post('/:phoneNumberId/smb_app_data', faulty('smb_app_data'), (req, res) => {
    const n = numberFor(req, req.params.phoneNumberId as string);
    const syncType = (req.body as { sync_type?: string }).sync_type;
    if (syncType !== 'smb_app_state_sync' && syncType !== 'history')
      throw new MetaError(400, 100, '(#100) Invalid parameter sync_type');
    if (n.syncRequests[syncType])
      throw new MetaError(400, 2593107, 'Synchronization of this type was already requested for this number.');
    if (n.linkedAt === undefined || world.clock.now() > n.linkedAt + SYNC_WINDOW_MS) {
      throw new MetaError(400, 2593108, 'Synchronization is only allowed within 24 hours of onboarding.');
    }
    const requestId = world.secret('req_');
    n.syncRequests[syncType] = requestId;
    count(`smb_app_data:${syncType}`, n);
    answer(req, res, { messaging_product: 'whatsapp', request_id: requestId });
    setImmediate(() => (syncType === 'history' ? sendHistory(n) : sendContacts(n)));
  });

  graph.get('/:id', faulty('node'), (req, res) => {
    const wabaId = bearer(req);
    const id = req.params.id as string;
    if (id === wabaId) {
      res.json({ id, health_status: healthOf(world.byWaba(wabaId)[0]) });
      return;
    }
    const n = numberFor(req, id);
    const onApi = world.onCloudApi(n);
    const all = {
      id: n.phoneNumberId,
      display_phone_number: display(n),
      verified_name: n.verifiedName,
      name_status: n.nameStatus,
      quality_rating: n.qualityRating,
      whatsapp_business_manager_messaging_limit: n.messagingLimitTier,
      throughput: { level: 'STANDARD' },
      status: onApi ? 'CONNECTED' : n.partnerRemoved ? 'DISCONNECTED' : 'PENDING',
      health_status: healthOf(n),
      is_on_biz_app: !n.partnerRemoved,
      platform_type: onApi ? 'CLOUD_API' : 'NOT_APPLICABLE',
      code_verification_status: 'VERIFIED',
      account_mode: 'LIVE',
    };
    const fields = String(req.query.fields ?? 'id,display_phone_number,verified_name,quality_rating').split(',');
    res.json(Object.fromEntries(Object.entries(all).filter(([k]) => k === 'id' || fields.includes(k))));
  });

  function healthOf(n: SimNumber | undefined) {
    const blocked = !n || !n.paymentMethod;
    return {
      can_send_message: blocked ? 'BLOCKED' : n.restricted ? 'LIMITED' : 'AVAILABLE',
      entities: [
        {
          entity_type: 'WABA',
          id: n?.wabaId,
          can_send_message: blocked ? 'BLOCKED' : 'AVAILABLE',
          ...(blocked
            ? {
                errors: [
                  {
                    error_code: 141006,
                    error_description: 'There is an error with the payment method.',
                    possible_solution: 'Add a payment method.',
                  },
                ],
              }
            : {}),
        },
      ],
    };
  }

  function sendContacts(n: SimNumber) {
    webhook(n, 'smb_app_state_sync', {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: display(n), phone_number_id: n.phoneNumberId },
      state_sync: [
        {
          type: 'contact',
          action: 'add',
          contact: { full_name: 'Pablo Morales', first_name: 'Pablo', phone_number: '16505551234' },
          metadata: { timestamp: String(seconds()) },
        },
      ],
    });
  }

  function sendHistory(n: SimNumber) {
    const metadata = { display_phone_number: display(n), phone_number_id: n.phoneNumberId };
    if (n.declinesHistory) {
      webhook(n, 'history', {
        messaging_product: 'whatsapp',
        metadata,
        history: [
          {
            errors: [
              {
                code: 2593109,
                title: 'History sync is turned off by the business',
                error_data: { details: 'History sharing is turned off by the business' },
              },
            ],
          },
        ],
      });
      return;
    }
    // A photo from the customer: a placeholder in the first chunk, its media in a follow-up
    // (plain `messages[]` under `history`), before or after that chunk.
    const mediaId = `wamid.history-media-${n.phoneNumberId}`;
    const mediaFollowUp = () =>
      webhook(n, 'history', {
        messaging_product: 'whatsapp',
        metadata,
        messages: [
          {
            from: '16505551234',
            id: mediaId,
            timestamp: String(seconds() - 1800),
            type: 'image',
            image: { id: `media-${n.phoneNumberId}`, mime_type: 'image/jpeg', sha256: 'c2ltdWxhdGVkIGltYWdl' },
          },
        ],
      });
    const placeholder = {
      from: '16505551234',
      id: mediaId,
      timestamp: String(seconds() - 1800),
      type: 'media_placeholder',
      history_context: { status: 'READ' },
    };
    if (n.historyMediaFirst) mediaFollowUp();
    for (const [phase, progress] of [
      [0, 50],
      [1, 100],
    ] as const) {
      webhook(n, 'history', {
        messaging_product: 'whatsapp',
        metadata,
        history: [
          {
            metadata: { phase, chunk_order: 1, progress },
            threads: [
              {
                id: '16505551234',
                messages: [
                  {
                    from: display(n),
                    to: '16505551234',
                    id: `wamid.history-${n.phoneNumberId}-${phase}`,
                    timestamp: String(seconds() - 3600 * (phase + 1)),
                    type: 'text',
                    text: { body: 'See you' },
                    history_context: { status: 'READ' },
                  },
                  ...(phase === 0 ? [placeholder] : []),
                ],
              },
            ],
          },
        ],
      });
    }
    if (!n.historyMediaFirst) mediaFollowUp();
  }

  app.use('/:version', (req, res, next) => (/^v\d+\.\d+$/.test(req.params.version as string) ? graph(req, res, next) : next()));

  // --- control: the phone, the user, faults, clock ----------------------------------------------
  const control = express.Router();
  const phone = z.string().regex(/^\+[1-9]\d{6,14}$/);
  const body = <S extends z.ZodType>(schema: S, req: Request): z.infer<S> => {
    const parsed = schema.safeParse(req.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw Object.assign(new Error(`${['body', ...issue.path].join('.')}: ${issue.message}`), { status: 400 });
    }
    return parsed.data;
  };
  const numberParam = (req: Request): SimNumber => {
    const n = world.numbers.get(req.params.phoneNumber as string);
    if (!n) throw Object.assign(new Error(`no simulated number ${req.params.phoneNumber}`), { status: 404 });
    return n;
  };
  const numberSettings = z
    .object({
      appVersion: z.string().regex(/^\d+(\.\d+)*$/),
      connectedElsewhere: z.boolean(),
      declinesHistory: z.boolean(),
      historyMediaFirst: z.boolean(),
      paymentMethod: z.boolean(),
      verifiedName: z.string().min(1),
      nameStatus: z.string(),
      listedAs: z.string().regex(/^\+[1-9]\d{6,14}$/),
      healthLagMs: z.number().int().min(0),
      qualityRating: z.string(),
    })
    .partial()
    .strict();

  control.post('/numbers', (req, res) => {
    const { phoneNumber, ...settings } = body(numberSettings.extend({ phoneNumber: phone }), req);
    res.status(201).json(world.addNumber({ phoneNumber, ...settings }));
  });
  control.get('/numbers/:phoneNumber', (req, res) =>
    res.json({ ...numberParam(req), onCloudApi: world.onCloudApi(numberParam(req)) }),
  );
  control.patch('/numbers/:phoneNumber', (req, res) => res.json(Object.assign(numberParam(req), body(numberSettings, req))));

  /** The message the page receives from Meta's popup (posted to the opener window). */
  const cancelMessage = (data: Record<string, string>) => ({ type: 'WA_EMBEDDED_SIGNUP', event: 'CANCEL', version: 3, data });

  /** A QR (or verification code) on Meta's screen, living `ttlMs` on the simulator's clock. */
  const issueLinkingCode = (n: SimNumber, method: 'qr' | 'code', ttlMs: number) => {
    const now = world.clock.now();
    n.linking = {
      code: method === 'qr' ? world.secret('qr_') : String(100000 + Math.floor(seededRandom(now)() * 899999)),
      method,
      issuedAt: now,
      expiresAt: now + ttlMs,
      attempt: (n.linking?.attempt ?? 0) + 1,
    };
    count('linking/refresh', n);
    return n.linking;
  };

  /**
   * Plays Meta's Embedded Signup for business-app users, in Meta's order: the popup opens (a
   * session) and shows a QR / verification code; only when the phone scans it (`/linking/:phone/scan`)
   * does Meta post FINISH with the code. Errors Meta shows in the popup come back as a CANCEL with
   * `error_code`; a person leaving at a step (`abandonAt`) as a CANCEL with `current_step`.
   */
  control.post('/signup', (req, res) => {
    const { phoneNumber, abandonAt, method, ttlMs } = body(
      z
        .object({
          phoneNumber: phone,
          abandonAt: z.string().optional(),
          method: z.enum(['qr', 'code']).default('qr'),
          ttlMs: z.number().int().positive().default(LINKING_CODE_TTL_MS),
        })
        .strict(),
      req,
    );
    const n = world.addNumber({ phoneNumber });
    const cancel = (data: Record<string, string>) => res.json({ message: cancelMessage(data) });
    const sessionId = world.secret('session_');
    if (abandonAt) return cancel({ current_step: abandonAt });
    if (!versionAtLeast(n.appVersion, MIN_APP_VERSION)) {
      return cancel({
        error_message: 'WhatsApp Business app version is too old',
        error_code: '4563015',
        session_id: sessionId,
        timestamp: String(seconds()),
      });
    }
    if (n.connectedElsewhere) {
      return cancel({
        error_message: 'This number is already connected to a business platform',
        error_code: '3441049',
        session_id: sessionId,
        timestamp: String(seconds()),
      });
    }
    n.signupSession = sessionId;
    res.json({ session: { id: sessionId }, linking: issueLinkingCode(n, method, ttlMs) });
  });

  /** The person leaves the open popup at a step: the page receives CANCEL with `current_step`. */
  control.post('/signup/:phoneNumber/cancel', (req, res) => {
    const n = numberParam(req);
    const { currentStep } = body(z.object({ currentStep: z.string().default('PHONE_NUMBER_VERIFICATION') }).strict(), req);
    n.signupSession = undefined;
    n.linking = undefined;
    res.json({ message: cancelMessage({ current_step: currentStep }) });
  });

  /** The person clicks "refresh the code" on Meta's screen (or, legacy, coexist asked for one). */
  control.post('/linking/:phoneNumber/refresh', (req, res) => {
    const n = world.addNumber({ phoneNumber: phone.parse(req.params.phoneNumber) });
    const { method, ttlMs } = body(
      z.object({ method: z.enum(['qr', 'code']).default('qr'), ttlMs: z.number().int().positive().default(LINKING_CODE_TTL_MS) }),
      req,
    );
    res.status(201).json(issueLinkingCode(n, method, ttlMs));
  });
  control.post('/linking/:phoneNumber/expire', (req, res) => {
    const n = numberParam(req);
    if (n.linking) n.linking.expiresAt = world.clock.now();
    res.json(n.linking ?? null);
  });
  /** The phone: Settings › Linked devices › scan (or type the code). */
  control.post('/linking/:phoneNumber/scan', (req, res) => {
    const n = numberParam(req);
    if (!n.linking || world.clock.now() >= n.linking.expiresAt) {
      res
        .status(409)
        .json({ error: { code: 'qr_expired', message: 'the QR code expired; refresh it on Meta’s connection screen' } });
      return;
    }
    if (!versionAtLeast(n.appVersion, MIN_APP_VERSION)) {
      res
        .status(409)
        .json({ error: { code: 'app_too_old', message: `WhatsApp Business ${n.appVersion} is older than ${MIN_APP_VERSION}` } });
      return;
    }
    n.linkedAt = world.clock.now();
    n.linking = undefined;
    n.partnerRemoved = false;
    n.offboarded = false;
    // Scanned inside a signup session: only now does Meta post FINISH, with the exchangeable code.
    if (n.signupSession === undefined) return void res.json({ linked: true, linkedAt: n.linkedAt });
    n.signupSession = undefined;
    const code = world.secret('code_');
    world.codes.set(code, { phoneNumber: n.phoneNumber, expiresAt: world.clock.now() + CODE_TTL_MS, used: false });
    res.json({
      linked: true,
      linkedAt: n.linkedAt,
      message: {
        type: 'WA_EMBEDDED_SIGNUP',
        event: 'FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING',
        version: 3,
        data: { waba_id: n.wabaId },
      },
      code,
    });
  });

  control.post('/numbers/:phoneNumber/quality', (req, res) => {
    const n = numberParam(req);
    const { qualityRating, messagingLimitTier } = body(
      z.object({ qualityRating: z.string(), messagingLimitTier: z.string().optional() }).strict(),
      req,
    );
    n.qualityRating = qualityRating;
    if (messagingLimitTier) n.messagingLimitTier = messagingLimitTier;
    webhook(n, 'phone_number_quality_update', {
      display_phone_number: display(n),
      event: 'DOWNGRADE',
      current_limit: n.messagingLimitTier,
      max_daily_conversations_per_business: n.messagingLimitTier,
    });
    res.json(n);
  });
  /**
   * How a lifecycle webhook is delivered: `time` is entry[].time in seconds (default: now; null: no
   * time at all), `deliveries` how many times Meta sends the same one, `webhook: false` changes
   * Meta's state without telling anyone.
   */
  const delivery = z
    .object({
      time: z.number().int().nullable().optional(),
      deliveries: z.number().int().min(1).max(10).default(1),
      webhook: z.boolean().default(true),
    })
    .partial();
  const lifecycle = (n: SimNumber, value: Record<string, unknown>, d: z.infer<typeof delivery>) => {
    if (d.webhook === false) return;
    const time = d.time === null ? undefined : (d.time ?? seconds());
    for (let i = 0; i < (d.deliveries ?? 1); i++) void outbox.send(n.wabaId, 'account_update', value, time);
  };

  /** The business adds, edits (another add) or removes a contact in the phone app: Meta's `smb_app_state_sync`. */
  control.post('/numbers/:phoneNumber/app/contacts', async (req, res) => {
    const n = numberParam(req);
    const { action, phoneNumber, fullName, firstName } = body(
      z
        .object({
          action: z.enum(['add', 'remove']),
          phoneNumber: z.string().regex(/^\d{7,15}$/),
          fullName: z.string().min(1).optional(),
          firstName: z.string().min(1).optional(),
        })
        .strict(),
      req,
    );
    const contact = {
      phone_number: phoneNumber,
      // A removal names no one.
      ...(action === 'add' && fullName ? { full_name: fullName } : {}),
      ...(action === 'add' && firstName ? { first_name: firstName } : {}),
    };
    await webhook(n, 'smb_app_state_sync', {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: display(n), phone_number_id: n.phoneNumberId },
      state_sync: [{ type: 'contact', action, contact, metadata: { timestamp: String(seconds()) } }],
    });
    res.status(202).json({ action, contact });
  });

  control.post('/numbers/:phoneNumber/partner-removed', (req, res) => {
    const n = numberParam(req);
    const { reason, ...d } = body(delivery.extend({ reason: z.string().default('PRIMARY_INACTIVITY') }), req);
    n.partnerRemoved = true;
    lifecycle(
      n,
      { phone_number: display(n), event: 'PARTNER_REMOVED', disconnection_info: { reason, initiated_by: 'SYSTEM' } },
      d,
    );
    res.json(n);
  });
  /** The phone re-registered: the Cloud API companion is paused (ACCOUNT_OFFBOARDED). */
  control.post('/numbers/:phoneNumber/offboarded', (req, res) => {
    const n = numberParam(req);
    n.offboarded = true;
    lifecycle(n, { phone_number: display(n), event: 'ACCOUNT_OFFBOARDED' }, body(delivery, req));
    res.json(n);
  });
  control.post('/numbers/:phoneNumber/reconnect', (req, res) => {
    const n = numberParam(req);
    n.partnerRemoved = false;
    n.offboarded = false;
    lifecycle(n, { phone_number: display(n), event: 'ACCOUNT_RECONNECTED' }, body(delivery, req));
    res.json(n);
  });
  /**
   * Meta restricts the account (ACCOUNT_RESTRICTION with restriction_info) or lifts it: health
   * says LIMITED while restricted; a lift is not announced by a webhook, only seen in reads.
   */
  control.post('/numbers/:phoneNumber/restriction', (req, res) => {
    const n = numberParam(req);
    const { restricted, ...d } = body(delivery.extend({ restricted: z.boolean().default(true) }), req);
    n.restricted = restricted;
    if (restricted)
      lifecycle(
        n,
        {
          phone_number: display(n),
          event: 'ACCOUNT_RESTRICTION',
          restriction_info: [{ restriction_type: 'RESTRICTED_BIZ_INITIATED_MESSAGING', expiration: seconds() + 7 * 86_400 }],
        },
        d,
      );
    res.json(n);
  });
  /** The business (or Meta) revokes every token issued for the number's WABA: every call answers 190. */
  control.post('/numbers/:phoneNumber/revoke-tokens', (req, res) => {
    const n = numberParam(req);
    let revoked = 0;
    for (const [token, wabaId] of world.tokens) if (wabaId === n.wabaId && world.tokens.delete(token)) revoked++;
    res.json({ revoked });
  });

  control.get('/clock', (_req, res) => res.json({ now: world.clock.now(), frozen: world.clock.frozen }));
  /** A frozen clock moves only by `/clock/advance`: rates and windows to the millisecond. */
  control.put('/clock', (req, res) => {
    const now = world.clock.freeze(body(z.object({ frozen: z.boolean() }).strict(), req).frozen);
    res.json({ now, frozen: world.clock.frozen });
  });
  control.post('/clock/advance', (req, res) =>
    res.json({ now: world.clock.advance(body(z.object({ ms: z.number().int().positive() }), req).ms) }),
  );

  const faultsSchema = z
    .object({
      errorRate: z.number().min(0).max(1).default(0),
      throttleRate: z.number().min(0).max(1).default(0),
      latencyMs: z.number().int().min(0).max(60_000).default(0),
      dropAfterApply: z.array(z.string()).default([]),
      endpoints: z.array(z.string()).default([]),
      seed: z.number().int().default(1),
    })
    .strict();
  control.put('/faults', (req, res) => {
    const { seed, ...f } = body(faultsSchema, req);
    faults = { ...f, random: seededRandom(seed) };
    res.json(f);
  });
  control.delete('/faults', (_req, res) => {
    faults = noFaults();
    res.status(204).end();
  });

  control.get('/calls', (_req, res) => res.json(Object.fromEntries(calls)));
  control.get('/requests', (_req, res) => res.json(Object.fromEntries(requests)));
  control.put('/health-lag', (req, res) => {
    world.healthLagMs = body(z.object({ ms: z.number().int().min(0) }), req).ms;
    res.json({ ms: world.healthLagMs });
  });
  control.put('/webhook-target', (req, res) => {
    outbox.webhookUrl = body(z.object({ url: z.url() }), req).url;
    res.json({ url: outbox.webhookUrl });
  });
  /** Every webhook sent, delivered or still pending (receiver down or not 200); `?field=` filters the deliveries. */
  control.get('/webhooks', (req, res) => {
    const field = typeof req.query.field === 'string' ? req.query.field : undefined;
    res.json({
      pending: outbox.pending().length,
      delivered: outbox.deliveries.length - outbox.pending().length,
      lastStatus: outbox.lastStatus ?? null,
      answers: outbox.answers,
      byField: outbox.byField(),
      deliveries: field ? outbox.deliveries.filter((d) => d.field === field) : outbox.deliveries,
    });
  });
  /** Attempts every pending webhook now (besides the retry timer); answers what is still pending. */
  control.post('/webhooks/redeliver', async (_req, res) => res.json(await outbox.redeliver()));
  /** Sends any change as Meta would (duplicates, late events, unknown fields). */
  control.post('/webhooks', async (req, res) => {
    const { wabaId, field, value, time } = body(
      z
        .object({ wabaId: z.string(), field: z.string(), value: z.unknown(), time: z.number().int().nullable().optional() })
        .strict(),
      req,
    );
    // `time: null`: the entry carries no time at all.
    await outbox.send(wabaId, field, value, time === null ? undefined : (time ?? seconds()));
    res.status(202).json({ pending: outbox.pending().length });
  });

  const templates = new TemplateCatalogue();
  registerTemplates(graph, control, {
    world,
    catalogue: templates,
    bearer,
    faulty,
    numberParam,
    body,
    wabaWebhook: (wabaId, field, value) => outbox.send(wabaId, field, value, seconds()),
  });

  registerMessaging(graph, control, {
    world,
    templates,
    messagesPerSecond: options.messagesPerSecond ?? 20,
    pairRate: options.pairRate ?? DEFAULT_PAIR_RATE,
    webhook,
    seconds,
    display,
    count,
    faulty,
    answer,
    numberFor,
    numberParam,
    body,
  });

  app.use('/_sim', control);

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof MetaError) return sendError(res, err);
    const status =
      (err as { status?: number; type?: string }).type === 'entity.parse.failed'
        ? 400
        : ((err as { status?: number }).status ?? 500);
    res
      .status(status)
      .json({ error: { code: status === 404 ? 'not_found' : 'invalid_request', message: (err as Error).message } });
  });

  return {
    app,
    world,
    outbox,
    listen(port: number, host = '127.0.0.1'): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
      return new Promise((resolve, reject) => {
        const server = app.listen(port, host, () => {
          const { port: actual } = server.address() as { port: number };
          resolve({
            url: `http://${host}:${actual}`,
            server,
            close: () =>
              new Promise<void>((done) => {
                outbox.stop();
                server.close(() => done());
                server.closeAllConnections();
              }),
          });
        });
        server.once('error', reject);
      });
    },
  };
}

function sendError(res: Response, e: MetaError): void {
  res.locals.metaCode = e.code;
  res.status(e.httpStatus).json({
    error: {
      message: e.message,
      type: 'OAuthException',
      code: e.code,
      ...(e.details ? { error_data: { details: e.details } } : {}),
      fbtrace_id: 'AbCdEfGhIjK',
    },
  });
}

export type Simulator = ReturnType<typeof createSimulator>;
