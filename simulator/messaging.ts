/**
 * Messaging on a Coexistence number: `POST /<PHONE_ID>/messages` with Meta's checks (payment, 20
 * messages per second, pair rate, the customer service window) and status webhooks, plus `/_sim`
 * controls that play the customer and the business on the phone app (docs/meta.md#webhooks,
 * #conversation-windows, #sending).
 * Windows and rates are measured on the simulator's clock.
 */
import type { Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import type { TemplateCatalogue } from './templates';
import { MetaError, type SimNumber, type World } from './world';

export const CUSTOMER_SERVICE_WINDOW_MS = 24 * 60 * 60_000;
export const FREE_ENTRY_POINT_MS = 72 * 60 * 60_000;
/** A template the WABA never created in the simulator's catalogue is priced as a utility template. */
const TEMPLATE_CATEGORY = 'utility';

/** 131056 once more than `messages` went to one customer within `perMs`. */
export interface PairRate {
  messages: number;
  perMs: number;
}
export const DEFAULT_PAIR_RATE: PairRate = { messages: 45, perMs: 6_000 };

export interface MessagingContext {
  world: World;
  /** Each WABA's templates: a send of one Meta would not send is refused with Meta's code. */
  templates: TemplateCatalogue;
  messagesPerSecond: number;
  pairRate: PairRate | false;
  /** Queues a signed webhook; resolves after its first attempt, never rejects. */
  webhook(n: SimNumber, field: string, value: unknown): Promise<void>;
  seconds(): number;
  display(n: SimNumber): string;
  count(endpoint: string, n: SimNumber): void;
  faulty(endpoint: string): RequestHandler;
  answer(req: Request, res: Response, body: unknown): void;
  numberFor(req: Request, phoneNumberId: string): SimNumber;
  numberParam(req: Request): SimNumber;
  body<S extends z.ZodType>(schema: S, req: Request): z.infer<S>;
}

interface Pricing {
  billable: boolean;
  pricing_model: 'PMP';
  type: 'free_customer_service' | 'free_entry_point' | 'regular';
  category: string;
}

/** A message accepted through the Graph API. */
/** One send request as it reached the simulator, before any latency or refusal: its time and its answer. */
interface SendRequest {
  /** When it arrived, on the simulator's clock (ms). */
  at: number;
  /** The recipient, as requested. */
  to?: string;
  /** When it was answered, on the simulator's clock. */
  answeredAt?: number;
  /** The HTTP status answered; absent while unanswered, `0` when the connection closed unanswered. */
  status?: number;
  /** Meta's error code when refused. */
  code?: number;
}

interface SentMessage {
  wamid: string;
  /** As requested: the phone number (`to`) or the business-scoped user id (`recipient`). */
  to: string;
  /** The customer's phone number as statuses show it (`recipient_id`): empty when sent by BSUID and not shared. */
  waId: string;
  /** The customer's key in the simulator: their BSUID when they have one, else the phone number. */
  customer: string;
  /** Sent to a customer with a BSUID: statuses carry `recipient_user_id` and `contacts`. */
  user?: SimUser;
  /** Sent by `recipient` (no `to`). */
  byRecipient: boolean;
  type: string;
  bizOpaqueCallbackData: string | null;
  acceptedAt: number;
  n: SimNumber;
}

/** Per (number, customer): the customer service window and a free entry point, if any. */
interface Conversation {
  windowExpiresAt?: number;
  /** The window was opened from a Click-to-WhatsApp ad or Page call-to-action (a `referral`). */
  entryPoint: boolean;
  freeEntryPointExpiresAt?: number;
}

/**
 * A WhatsApp user known to the business by a business-scoped user id (BSUID): one who adopted a
 * username and hides their phone number, until they share it (docs/meta.md#usernames-and-business-scoped-user-ids).
 */
export interface SimUser {
  userId: string;
  username?: string;
  /** Their phone number (digits); Meta shows it only while `phoneShared`. */
  waId?: string;
  phoneShared: boolean;
}

const digits = (s: string) => s.replace(/\D/g, '');
const waIdSchema = z.string().regex(/^[1-9]\d{6,14}$/, 'a wa_id: digits only, 7 to 15');
/** A BSUID as Meta documents it: a country code, a dot, then letters and digits (`US.13491208655302741918`). */
const userIdSchema = z
  .string()
  .regex(/^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$/, 'a business-scoped user id, e.g. US.13491208655302741918');
const customerSchema = z.union([waIdSchema, userIdSchema]);

const media = z
  .object({ id: z.string().min(1).optional(), link: z.url().optional(), caption: z.string().optional() })
  .loose()
  .refine((m) => m.id || m.link, 'id or link is required');
/** The content object each message type needs (docs/meta.md#sending). */
const contents: Record<string, z.ZodType> = {
  text: z.object({ body: z.string().min(1).max(4096), preview_url: z.boolean().optional() }).loose(),
  template: z
    .object({
      name: z.string().min(1),
      language: z.object({ code: z.string().min(1) }).loose(),
      components: z.array(z.object({ type: z.string() }).loose()).optional(),
    })
    .loose(),
  image: media,
  audio: media,
  video: media,
  document: media,
  sticker: media,
  reaction: z.object({ message_id: z.string().min(1), emoji: z.string() }).loose(),
  location: z.object({ latitude: z.number(), longitude: z.number() }).loose(),
  contacts: z.array(z.object({ name: z.object({ formatted_name: z.string() }).loose() }).loose()).min(1),
  interactive: z.object({ type: z.string().min(1), action: z.object({}).loose() }).loose(),
};
const sendSchema = z
  .object({
    messaging_product: z.literal('whatsapp'),
    recipient_type: z.literal('individual').optional(),
    // `to` a phone number, or `recipient` a BSUID or parent BSUID; with both, `to` wins.
    to: z
      .string()
      .refine((to) => /^[1-9]\d{6,14}$/.test(digits(to)), 'not a phone number')
      .optional(),
    recipient: userIdSchema.optional(),
    // Meta's default when `type` is left out.
    type: z.enum(Object.keys(contents) as [string, ...string[]]).default('text'),
    context: z
      .object({ message_id: z.string().min(1) })
      .loose()
      .optional(),
    biz_opaque_callback_data: z.string().max(512).optional(),
  })
  .loose()
  .refine((m) => m.to !== undefined || m.recipient !== undefined, { message: 'to or recipient is required', path: ['to'] });

const errorTitles: Record<number, string> = {
  130429: 'Rate limit hit',
  131000: 'Something went wrong',
  131026: 'Message undeliverable',
  131042: 'Business eligibility payment issue',
  131047: 'Re-engagement message',
  131051: 'Message type unknown',
  131056: '(Business Account, Consumer Account) pair rate limit hit',
  131060: 'Message type is currently not supported',
  131062: 'BSUID recipients not supported',
};
const metaErrorObject = (code: number) => {
  const title = errorTitles[code] ?? 'Message failed to send';
  return { code, title, message: title, error_data: { details: title } };
};

const MIME: Record<string, string> = {
  image: 'image/jpeg',
  audio: 'audio/ogg; codecs=opus',
  video: 'video/mp4',
  document: 'application/pdf',
  sticker: 'image/webp',
};

export function registerMessaging(graph: Router, control: Router, ctx: MessagingContext): void {
  const { world } = ctx;
  const conversations = new Map<string, Conversation>();
  const sentLogs = new Map<string, SentMessage[]>();
  const rejections = new Map<string, Record<number, number>>();
  /** Every send request by phone number id, accepted or refused, in arrival order. */
  const sendRequests = new Map<string, SendRequest[]>();
  const requestLog = (phoneNumberId: string) => {
    let log = sendRequests.get(phoneNumberId);
    if (!log) sendRequests.set(phoneNumberId, (log = []));
    return log;
  };
  const byWamid = new Map<string, SentMessage>();
  let pairRate = ctx.pairRate;
  /** Users with a BSUID, by `<phone_number_id>:<BSUID>`. */
  const users = new Map<string, SimUser>();
  const userOf = (n: SimNumber, userId: string) => users.get(`${n.phoneNumberId}:${userId}`);
  const userByPhone = (n: SimNumber, waId: string) =>
    [...users.entries()].find(([k, u]) => k.startsWith(`${n.phoneNumberId}:`) && u.waId === waId)?.[1];
  /** A customer named by phone or BSUID: their user (if any) and the key their window and pair rate go by. */
  const customerOf = (n: SimNumber, identifier: string): { key: string; user?: SimUser; phone?: string } => {
    if (userIdSchema.safeParse(identifier).success) {
      const user = userOf(n, identifier);
      if (!user) throw Object.assign(new Error(`no user ${identifier} on this number`), { status: 404 });
      return { key: user.userId, user };
    }
    const user = userByPhone(n, identifier);
    return { key: user?.userId ?? identifier, phone: identifier, ...(user ? { user } : {}) };
  };
  /** The phone number Meta shows for a customer: theirs when shared, else empty. */
  const shownPhone = (c: { user?: SimUser; phone?: string }) =>
    c.user ? (c.user.phoneShared ? (c.user.waId ?? '') : '') : (c.phone ?? '');

  const conversation = (n: SimNumber, waId: string): Conversation => {
    const key = `${n.phoneNumberId}:${waId}`;
    let c = conversations.get(key);
    if (!c) conversations.set(key, (c = { entryPoint: false }));
    return c;
  };
  const windowOpen = (c: Conversation, now: number) => c.windowExpiresAt !== undefined && now < c.windowExpiresAt;
  const sentLog = (n: SimNumber) => {
    let log = sentLogs.get(n.phoneNumberId);
    if (!log) sentLogs.set(n.phoneNumberId, (log = []));
    return log;
  };
  /** How many of `log` (ordered by acceptance) were accepted after `since`, optionally to one customer. */
  const acceptedSince = (log: SentMessage[], since: number, waId?: string) => {
    let count = 0;
    for (let i = log.length - 1; i >= 0 && log[i]!.acceptedAt > since; i--) if (!waId || log[i]!.customer === waId) count++;
    return count;
  };
  const metadata = (n: SimNumber) => ({ display_phone_number: ctx.display(n), phone_number_id: n.phoneNumberId });
  const newWamid = () => `wamid.${world.secret('')}`;

  /** Free-form only inside the window; the pricing Meta reports for the message otherwise (docs/meta.md#conversation-windows, docs/meta.md#pricing). */
  function pricingFor(c: Conversation, isTemplate: boolean, now: number, templateCategory = TEMPLATE_CATEGORY): Pricing {
    const open = windowOpen(c, now);
    if (!isTemplate && !open) {
      throw new MetaError(
        400,
        131047,
        'Re-engagement message',
        'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
      );
    }
    // The first reply inside an entry-point window starts the free entry point period.
    if (open && c.entryPoint && c.freeEntryPointExpiresAt === undefined) c.freeEntryPointExpiresAt = now + FREE_ENTRY_POINT_MS;
    const category = isTemplate ? templateCategory : 'service';
    if (c.freeEntryPointExpiresAt !== undefined && now < c.freeEntryPointExpiresAt)
      return { billable: false, pricing_model: 'PMP', type: 'free_entry_point', category };
    if (open) return { billable: false, pricing_model: 'PMP', type: 'free_customer_service', category };
    return { billable: true, pricing_model: 'PMP', type: 'regular', category };
  }

  /**
   * A send addressed by business-scoped user id (`recipient`, no `to`) of an authentication
   * template: Meta needs a phone number for it and refuses with 131062.
   */
  function refuseUsernameRecipient(n: SimNumber, raw: Record<string, unknown>) {
    if (raw.to !== undefined || typeof raw.recipient !== 'string' || raw.type !== 'template') return;
    const template = z
      .object({ name: z.string(), language: z.object({ code: z.string() }).loose() })
      .loose()
      .safeParse(raw.template);
    if (!template.success) return;
    const known = ctx.templates.get(n.wabaId, template.data.name, template.data.language.code);
    if (known?.category !== 'AUTHENTICATION') return;
    throw new MetaError(
      400,
      131062,
      'BSUID recipients not supported',
      'This message cannot be sent to a business-scoped user id; send it to the phone number.',
    );
  }

  function accept(n: SimNumber, req: Request): { message: SentMessage; pricing: Pricing } {
    const raw = (req.body ?? {}) as Record<string, unknown>;
    refuseUsernameRecipient(n, raw);
    const parsed = sendSchema.safeParse(raw);
    if (!parsed.success) throw invalidParameter(raw, parsed.error.issues[0]!);
    const { type, biz_opaque_callback_data } = parsed.data;
    const byRecipient = parsed.data.to === undefined;
    const to = parsed.data.to ?? parsed.data.recipient!;
    const recipientUser = byRecipient ? userOf(n, to) : undefined;
    if (byRecipient && !recipientUser)
      throw new MetaError(400, 131026, 'Message undeliverable', `no WhatsApp user ${to} is known to this business`);
    const content = contents[type]!.safeParse(raw[type]);
    if (!content.success)
      throw invalidParameter(raw, { ...content.error.issues[0]!, path: [type, ...content.error.issues[0]!.path] });
    if (!n.paymentMethod)
      throw new MetaError(
        400,
        131042,
        'Business eligibility payment issue',
        'There was an error related to your payment method.',
      );

    const now = world.clock.now();
    const log = sentLog(n);
    // Any one-second interval: a message is refused while `mps` were accepted in the second before it.
    if (acceptedSince(log, now - 1000) >= ctx.messagesPerSecond)
      throw new MetaError(
        400,
        130429,
        'Rate limit hit',
        'Message failed to send because there were too many messages sent from this phone number in a short period of time.',
      );
    const customer = byRecipient ? { key: recipientUser!.userId, user: recipientUser! } : customerOf(n, digits(to));
    const waId = customer.key;
    if (pairRate && acceptedSince(log, now - pairRate.perMs, waId) >= pairRate.messages) {
      throw new MetaError(
        400,
        131056,
        '(Business Account, Consumer Account) pair rate limit hit',
        'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.',
      );
    }
    let category: string | undefined;
    if (type === 'template') {
      const { name, language } = content.data as { name: string; language: { code: string } };
      const refusal = ctx.templates.refusal(n.wabaId, name, language.code);
      if (refusal) throw refusal;
      category = ctx.templates.get(n.wabaId, name, language.code)?.category.toLowerCase();
    }
    const pricing = pricingFor(conversation(n, waId), type === 'template', now, category);

    const message: SentMessage = {
      wamid: newWamid(),
      to,
      waId: byRecipient ? shownPhone(customer) : digits(to),
      customer: waId,
      ...(customer.user ? { user: customer.user } : {}),
      byRecipient,
      type,
      bizOpaqueCallbackData: biz_opaque_callback_data ?? null,
      acceptedAt: now,
      n,
    };
    log.push(message);
    byWamid.set(message.wamid, message);
    return { message, pricing };
  }

  /**
   * A status of a sent message. To a customer with a BSUID it carries `recipient_user_id` and a
   * `contacts[]` entry (phone when shared, username), except that a failed status omits `contacts`,
   * and `recipient_user_id` too when the message went to a phone number.
   */
  function statusWebhook(m: SentMessage, status: string, extra: Record<string, unknown>): Promise<void> {
    const u = m.user;
    const failed = status === 'failed';
    const phone = u ? (m.byRecipient ? shownPhone({ user: u }) : m.waId) : m.waId;
    return ctx.webhook(m.n, 'messages', {
      messaging_product: 'whatsapp',
      metadata: metadata(m.n),
      ...(u && !failed ? { contacts: [userContact(u, phone)] } : {}),
      statuses: [
        {
          id: m.wamid,
          status,
          timestamp: String(ctx.seconds()),
          recipient_id: phone,
          ...(u && !(failed && !m.byRecipient) ? { recipient_user_id: u.userId } : {}),
          ...(m.bizOpaqueCallbackData !== null ? { biz_opaque_callback_data: m.bizOpaqueCallbackData } : {}),
          ...extra,
        },
      ],
    });
  }

  /** A user's `contacts[]` entry: `wa_id` only when the phone is shown. */
  const userContact = (u: SimUser, phone: string, name?: string) => ({
    ...(name !== undefined || u.username
      ? { profile: { ...(name ? { name } : {}), ...(u.username ? { username: u.username } : {}) } }
      : {}),
    ...(phone ? { wa_id: phone } : {}),
    user_id: u.userId,
  });

  // --- Graph API -----------------------------------------------------------------------------------
  // No idempotency key exists at Meta: every accepted request is a new message with a new wamid.
  /** Records the request on arrival, and its answer once given (whatever refused it). */
  const recordSendRequest = (req: Request, res: Response, next: () => void) => {
    const to: unknown = (req.body as { to?: unknown } | undefined)?.to;
    const request: SendRequest = { at: world.clock.now(), ...(typeof to === 'string' ? { to } : {}) };
    requestLog(req.params.phoneNumberId as string).push(request);
    res.on('close', () => {
      request.answeredAt = world.clock.now();
      request.status = res.headersSent ? res.statusCode : 0;
      if (typeof res.locals.metaCode === 'number') request.code = res.locals.metaCode;
    });
    next();
  };

  graph.post('/:phoneNumberId/messages', recordSendRequest, ctx.faulty('messages'), (req, res) => {
    const n = ctx.numberFor(req, req.params.phoneNumberId as string);
    let accepted: ReturnType<typeof accept>;
    try {
      accepted = accept(n, req);
    } catch (err) {
      if (err instanceof MetaError) {
        const counts = rejections.get(n.phoneNumberId) ?? {};
        counts[err.code] = (counts[err.code] ?? 0) + 1;
        rejections.set(n.phoneNumberId, counts);
      }
      throw err;
    }
    const { message, pricing } = accepted;
    ctx.count('messages', n);
    ctx.answer(req, res, {
      messaging_product: 'whatsapp',
      contacts: [
        message.byRecipient ? { input: message.to, user_id: message.to } : { input: message.to, wa_id: digits(message.to) },
      ],
      messages: [{ id: message.wamid, ...(message.type === 'template' ? { message_status: 'accepted' } : {}) }],
    });
    setImmediate(async () => {
      await statusWebhook(message, 'sent', { pricing });
      await statusWebhook(message, 'delivered', { pricing });
    });
  });

  // --- control: the customer, the business on the phone app, statuses ------------------------------
  const customerMessageSchema = z
    .object({
      type: z.enum(['text', 'image', 'audio', 'video', 'document', 'sticker', 'button']).default('text'),
      text: z.string().min(1).max(4096).optional(),
      /** The customer's profile name in `contacts`. */
      name: z.string().min(1).optional(),
      referral: z.object({ source_type: z.string(), source_id: z.string(), ctwa_clid: z.string() }).loose().optional(),
      /** Sends an `unsupported` message with this error instead (e.g. 131060 on first contact). */
      unsupported: z.object({ code: z.number().int() }).strict().optional(),
    })
    .strict();

  const inboundContent = (type: string, text: string | undefined) => {
    if (type === 'text') return { text: { body: text ?? 'Hello' } };
    if (type === 'button') return { button: { text: text ?? 'Yes', payload: text ?? 'Yes' } };
    return { [type]: { id: world.id(), mime_type: MIME[type], ...(text ? { caption: text } : {}) } };
  };

  /**
   * A customer writes to the number: opens or resets their customer service window. `:waId` is
   * their phone number, or the BSUID of a user (`POST .../users`): a user who hides their phone
   * writes with `from: ""` and `from_user_id`, and `contacts[]` has their user id and username.
   */
  control.post('/numbers/:phoneNumber/customers/:waId/messages', (req, res) => {
    const n = ctx.numberParam(req);
    const who = customerOf(n, pathParam(customerSchema, req.params.waId, 'waId'));
    const waId = who.key;
    const { type, text, name, referral, unsupported } = ctx.body(customerMessageSchema, req);
    const now = world.clock.now();
    const c = conversation(n, waId);
    if (referral && !(c.freeEntryPointExpiresAt !== undefined && now < c.freeEntryPointExpiresAt)) {
      c.entryPoint = true;
      c.freeEntryPointExpiresAt = undefined;
    } else if (!windowOpen(c, now)) c.entryPoint = false;
    c.windowExpiresAt = now + CUSTOMER_SERVICE_WINDOW_MS;

    const wamid = newWamid();
    const from = shownPhone(who);
    const message = {
      from,
      ...(who.user ? { from_user_id: who.user.userId } : {}),
      id: wamid,
      timestamp: String(ctx.seconds()),
      ...(unsupported
        ? { type: 'unsupported', errors: [metaErrorObject(unsupported.code)] }
        : { type, ...inboundContent(type, text) }),
      ...(referral ? { referral } : {}),
    };
    void ctx.webhook(n, 'messages', {
      messaging_product: 'whatsapp',
      metadata: metadata(n),
      contacts: [
        who.user
          ? userContact(who.user, from, name ?? `Customer ${waId.slice(-4)}`)
          : { profile: { name: name ?? `Customer ${waId.slice(-4)}` }, wa_id: waId },
      ],
      messages: [message],
    });
    res.status(201).json({ wamid });
  });

  /** The business writes from the WhatsApp Business app: an echo, which never touches a window. */
  control.post('/numbers/:phoneNumber/app/messages', (req, res) => {
    const n = ctx.numberParam(req);
    const { to, text } = ctx.body(
      z
        .object({ to: z.union([z.string().regex(/^\+?[1-9]\d{6,14}$/), userIdSchema]), text: z.string().min(1).max(4096) })
        .strict(),
      req,
    );
    const who = customerOf(n, userIdSchema.safeParse(to).success ? to : digits(to));
    const wamid = newWamid();
    // To a user with a BSUID: `to` their phone only when shown, and `to_user_id`.
    const echo = who.user ? { to: shownPhone(who), to_user_id: who.user.userId } : { to };
    void ctx.webhook(n, 'smb_message_echoes', {
      messaging_product: 'whatsapp',
      metadata: metadata(n),
      message_echoes: [
        { from: ctx.display(n), ...echo, id: wamid, timestamp: String(ctx.seconds()), type: 'text', text: { body: text } },
      ],
    });
    res.status(201).json({ wamid });
  });

  const statusSchema = z.discriminatedUnion('status', [
    z.object({ status: z.literal('read') }).strict(),
    z.object({ status: z.literal('failed'), errorCode: z.number().int().default(131026) }).strict(),
  ]);
  /** Later statuses of a message sent through the Graph API: the customer read it, or it failed. */
  control.post('/messages/:wamid/status', (req, res) => {
    const m = byWamid.get(req.params.wamid as string);
    if (!m) throw Object.assign(new Error(`no message ${req.params.wamid} was sent through the Graph API`), { status: 404 });
    const update = ctx.body(statusSchema, req);
    void statusWebhook(m, update.status, update.status === 'failed' ? { errors: [metaErrorObject(update.errorCode)] } : {});
    res.status(202).json({ wamid: m.wamid, status: update.status });
  });

  control.get('/numbers/:phoneNumber/sent', (req, res) => {
    const n = ctx.numberParam(req);
    res.json({
      sent: sentLog(n).map(({ wamid, to, byRecipient, type, bizOpaqueCallbackData, acceptedAt }) => ({
        wamid,
        to,
        by: byRecipient ? 'recipient' : 'to',
        type,
        bizOpaqueCallbackData,
        acceptedAt,
      })),
      rejected: rejections.get(n.phoneNumberId) ?? {},
      requests: sendRequests.get(n.phoneNumberId) ?? [],
    });
  });

  /** A user who adopted a username: known by a new BSUID, their phone hidden unless `waId` and `phoneShared`. */
  const userSchema = z
    .object({
      username: z.string().min(1).max(35).optional(),
      waId: waIdSchema.optional(),
      phoneShared: z.boolean().default(false),
      country: z
        .string()
        .regex(/^[A-Z]{2}$/)
        .default('US'),
    })
    .strict();
  control.post('/numbers/:phoneNumber/users', (req, res) => {
    const n = ctx.numberParam(req);
    const { username, waId, phoneShared, country } = ctx.body(userSchema, req);
    const user: SimUser = {
      userId: `${country}.${world.id()}${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`,
      ...(username ? { username } : {}),
      ...(waId ? { waId } : {}),
      phoneShared: phoneShared && waId !== undefined,
    };
    users.set(`${n.phoneNumberId}:${user.userId}`, user);
    res.status(201).json(user);
  });
  /** The user shares (or hides again) their phone number, or changes their username. */
  control.patch('/numbers/:phoneNumber/users/:userId', (req, res) => {
    const n = ctx.numberParam(req);
    const user = userOf(n, pathParam(userIdSchema, req.params.userId, 'userId'));
    if (!user) throw Object.assign(new Error(`no user ${req.params.userId} on this number`), { status: 404 });
    const change = ctx.body(
      z
        .object({
          username: z.string().min(1).max(35).optional(),
          waId: waIdSchema.optional(),
          phoneShared: z.boolean().optional(),
        })
        .strict(),
      req,
    );
    Object.assign(user, change);
    user.phoneShared = user.phoneShared && user.waId !== undefined;
    res.json(user);
  });

  /**
   * The customer changes their phone number (`waId` given: Meta's `user_changed_number`) or, for a
   * user with a BSUID, gets a new BSUID (`user_changed_user_id`). Meta tells the business with a
   * `system` message that names the customer by the old identifiers and carries the new one, with
   * no `contacts[]`. Their window stays theirs.
   */
  control.post('/numbers/:phoneNumber/customers/:waId/identity-change', (req, res) => {
    const n = ctx.numberParam(req);
    const who = customerOf(n, pathParam(customerSchema, req.params.waId, 'waId'));
    const { waId: newPhone, name } = ctx.body(
      z.object({ waId: waIdSchema.optional(), name: z.string().min(1).max(100).default('Customer') }).strict(),
      req,
    );
    if (!newPhone && !who.user)
      throw Object.assign(new Error('a customer without a BSUID changes only their number: give `waId`'), { status: 400 });
    const from = shownPhone(who);
    const oldUserId = who.user?.userId;
    let system: Record<string, string>;
    if (newPhone) {
      system = {
        body: `User ${name} changed from ${from || oldUserId} to ${newPhone}`,
        wa_id: newPhone,
        type: 'user_changed_number',
      };
      if (who.user) who.user.waId = newPhone;
    } else {
      const user = who.user!;
      const newUserId = `${user.userId.split('.')[0]}.${world.id()}${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
      users.delete(`${n.phoneNumberId}:${user.userId}`);
      user.userId = newUserId;
      users.set(`${n.phoneNumberId}:${newUserId}`, user);
      system = {
        body: `User ${name} changed from ${oldUserId} to ${newUserId}`,
        user_id: newUserId,
        type: 'user_changed_user_id',
      };
    }
    const newKey = who.user?.userId ?? newPhone!;
    const window = conversations.get(`${n.phoneNumberId}:${who.key}`);
    if (window && newKey !== who.key) conversations.set(`${n.phoneNumberId}:${newKey}`, window);
    const wamid = newWamid();
    void ctx.webhook(n, 'messages', {
      messaging_product: 'whatsapp',
      metadata: metadata(n),
      messages: [
        {
          from,
          ...(oldUserId ? { from_user_id: oldUserId } : {}),
          id: wamid,
          timestamp: String(ctx.seconds()),
          type: 'system',
          system,
        },
      ],
    });
    res.status(201).json({ wamid, system, ...(who.user ? { user: who.user } : {}) });
  });

  control.get('/numbers/:phoneNumber/customers/:waId/window', (req, res) => {
    const n = ctx.numberParam(req);
    const c = conversations.get(`${n.phoneNumberId}:${customerOf(n, pathParam(customerSchema, req.params.waId, 'waId')).key}`);
    const now = world.clock.now();
    res.json({ open: c ? windowOpen(c, now) : false, expiresAt: c?.windowExpiresAt ?? null });
  });

  control.put('/pair-rate', (req, res) => {
    pairRate = ctx.body(z.object({ messages: z.number().int().positive(), perMs: z.number().int().positive() }).strict(), req);
    res.json(pairRate);
  });
  control.delete('/pair-rate', (_req, res) => {
    pairRate = false;
    res.status(204).end();
  });
}

function pathParam<S extends z.ZodType>(schema: S, value: unknown, name: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw Object.assign(new Error(`${name}: ${parsed.error.issues[0]!.message}`), { status: 400 });
  return parsed.data;
}

/** Meta's code 100: "required" when the parameter is missing, else invalid, with the zod reason in `details`. */
function invalidParameter(body: Record<string, unknown>, issue: { path: PropertyKey[]; message: string }): MetaError {
  const path = issue.path.map(String).join('.') || 'body';
  const value = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], body);
  return new MetaError(
    400,
    100,
    value === undefined ? `(#100) The parameter ${path} is required.` : `(#100) Invalid parameter ${path}`,
    `${path}: ${issue.message}`,
  );
}
