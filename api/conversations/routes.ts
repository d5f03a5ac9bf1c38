import { Router } from 'express';
import { windowOf, type ConversationContext } from '../../machines/conversation';
import { conversationWorkflowId } from '../../contracts/ids';
import type { ApiDeps } from '../deps';
import { requireApiKey } from '../http/auth';
import { idempotent } from '../http/idempotency';
import { ApiError, parseRequest, toApiError } from '../http/errors';
import { jsonBody } from '../http/json-body';
import { machineView } from '../machine-view';
import type { TemplateChecks } from '../templates/send-check';
import { sendQueueLimit } from './backpressure';
import { sendEvent } from './events';
import { customerToSendTo, findConversationKey, presentCustomer } from './customer';
import { presentConversation } from './presenter';
import {
  conversationParamsSchema,
  listConversationsQuerySchema,
  listMessagesQuerySchema,
  numberParamsSchema,
  type ConversationList,
  listOrphanStatusesQuerySchema,
  messageParamsSchema,
  RAW_MESSAGE_HEADERS,
  sendMessageSchema,
  type MessagePage,
  type OrphanStatusList,
  type SendAnswer,
} from './schemas';
import { sendAndQueue } from './workflow';
import { rawBody } from '../../store/inbox';
import { locateMessage } from '../webhooks/message-location';

/** The backend's conversation routes: send, read the window, read the messages and the bytes they came in. */
export function conversationRoutes({ client, config, log, store }: ApiDeps, templates: TemplateChecks): Router {
  const router = Router();
  const base = '/numbers/:phoneNumberId/conversations/:waId';
  router.use('/numbers', requireApiKey(config.BACKEND_API_KEY));

  // Decided at once: the caller learns whether the window allows it (409) (./workflow).
  router.post(
    `${base}/messages`,
    ...jsonBody('64kb'),
    sendQueueLimit(store, config.SEND_QUEUE_DEPTH_LIMIT),
    idempotent(store, log, () => 'backend'),
    async (req, res) => {
      const { phoneNumberId, waId: identifier } = parseRequest(conversationParamsSchema, req.params, 'params');
      const request = parseRequest(sendMessageSchema, req.body, 'body');
      const { clientMessageId } = request;
      await templates.refuseUnsendable(phoneNumberId, request.message);
      const customer = await customerToSendTo(store, phoneNumberId, identifier);
      const waId = customer.key;
      const sent = await sendAndQueue(
        client,
        config.TEMPORAL_TASK_QUEUE,
        store,
        { phoneNumberId, waId },
        sendEvent(request, Date.now()),
      ).catch(async (err: unknown) => {
        // A closed window's refusal also names the templates this number can send.
        const refused = toApiError(err);
        const sendable = refused.code === 'customer_service_window_closed' && (await templates.sendableHint(phoneNumberId));
        if (!sendable) throw err;
        throw new ApiError(
          refused.status,
          refused.code,
          refused.message,
          refused.field,
          `${refused.hint ?? ''} ${sendable}`.trim(),
        );
      });
      const conversation = presentConversation({ phoneNumberId, waId }, sent.window, sent.counts, customer);
      res.status(202).json({ clientMessageId, status: 'queued', conversation } satisfies SendAnswer);
    },
  );

  // The number's conversations from the store (no filter by inbox state: the store has it only for
  // conversations whose workflow keeps their row): newest activity first, with the window computed from the store.
  router.get('/numbers/:phoneNumberId/conversations', async (req, res) => {
    const { phoneNumberId } = parseRequest(numberParamsSchema, req.params, 'params');
    const query = parseRequest(listConversationsQuerySchema, req.query, 'query');
    const page = await store.listConversations({ phoneNumberId, ...query, now: Date.now() });
    const known = new Map(
      (
        await store.customersByKeys(
          phoneNumberId,
          page.conversations.map((c) => c.waId),
        )
      ).map((c) => [c.key, c]),
    );
    res.json({
      ...page,
      conversations: page.conversations.map((c) => ({ ...c, customer: presentCustomer(c.waId, known.get(c.waId)) })),
    } satisfies ConversationList);
  });

  router.get(base, async (req, res) => {
    const { phoneNumberId, waId: identifier } = parseRequest(conversationParamsSchema, req.params, 'params');
    const customer = await store.findCustomer(phoneNumberId, identifier);
    const waId = customer?.key ?? identifier;
    const view = await machineView<ConversationContext>(client, conversationWorkflowId(phoneNumberId, waId));
    const { counts } = await store.getConversation(phoneNumberId, waId);
    res.json(presentConversation({ phoneNumberId, waId }, windowOf(view), counts, customer));
  });

  router.get(`${base}/messages`, async (req, res) => {
    const { phoneNumberId, waId: identifier } = parseRequest(conversationParamsSchema, req.params, 'params');
    const waId = await findConversationKey(store, phoneNumberId, identifier);
    const query = parseRequest(listMessagesQuerySchema, req.query, 'query');
    res.json((await store.listMessages({ phoneNumberId, waId, ...query })) satisfies MessagePage);
  });

  // The bytes a stored message came in: the whole delivery as Meta sent it (and signed it), with
  // which delivery, inbox item and place in it in the headers. Kept as long as the inbox keeps it.
  router.get(`${base}/messages/:messageId/raw`, async (req, res) => {
    const { phoneNumberId, waId, messageId } = parseRequest(messageParamsSchema, req.params, 'params');
    const found = await store.messageDelivery({ phoneNumberId, waId, messageId });
    if (!found.stored) {
      throw new ApiError(404, 'not_found', `no message ${messageId} in the conversation of ${waId} on ${phoneNumberId}`);
    }
    const { delivery } = found;
    if (!delivery) {
      throw new ApiError(
        404,
        'raw_not_kept',
        `message ${messageId} came in no webhook delivery the inbox still keeps`,
        undefined,
        'a message sent by the platform came in no delivery; a delivery is kept for 8 days after it was applied',
      );
    }
    const location = locateMessage(rawBody(delivery.raw), phoneNumberId, messageId);
    const headers: Record<keyof typeof RAW_MESSAGE_HEADERS, string | undefined> = {
      'Coexist-Delivery-Id': delivery.deliveryId,
      'Coexist-Delivery-Received-At': delivery.receivedAt,
      'Coexist-Item-Id': delivery.itemId,
      // Keys along the path are Meta's; a header holds printable ASCII only.
      'Coexist-Item-Path': location && /^[\x20-\x7e]*$/.test(location.path) ? location.path : undefined,
      'Coexist-Entry-Index': location?.entry?.toString(),
      'Coexist-Change-Index': location?.change?.toString(),
    };
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) res.set(name, value);
    res.type('application/json').send(delivery.raw);
  });

  // Statuses Meta reported for messages the store does not hold (yet): each moves onto its
  // message once that is recorded, and is no longer listed here.
  router.get(`${base}/orphan-statuses`, async (req, res) => {
    const { phoneNumberId, waId: identifier } = parseRequest(conversationParamsSchema, req.params, 'params');
    const waId = await findConversationKey(store, phoneNumberId, identifier);
    const { limit } = parseRequest(listOrphanStatusesQuerySchema, req.query, 'query');
    res.json({ statuses: await store.listOrphanStatuses({ phoneNumberId, waId, limit }) } satisfies OrphanStatusList);
  });

  return router;
}
