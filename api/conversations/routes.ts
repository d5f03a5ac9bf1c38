import { Router } from 'express';
import type { ConversationContext } from '../../machines/conversation';
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
import { findConversationKey, presentCustomer, resolveConversationKey } from './customer';
import { presentConversation } from './presenter';
import {
  conversationParamsSchema,
  listConversationsQuerySchema,
  listMessagesQuerySchema,
  numberParamsSchema,
  type ConversationList,
  listOrphanStatusesQuerySchema,
  sendMessageSchema,
  type MessagePage,
  type OrphanStatusList,
  type SendAnswer,
} from './schemas';
import { sendAndQueue } from './workflow';

/** The backend's conversation routes: send, read the window, read the messages. */
export function conversationRoutes({ client, config, log, store }: ApiDeps, templates: TemplateChecks): Router {
  const router = Router();
  const base = '/numbers/:phoneNumberId/conversations/:waId';
  router.use('/numbers', requireApiKey(config.BACKEND_API_KEY));

  // Applied by Workflow Update: the caller learns at once whether the window allows it (409).
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
      const waId = await resolveConversationKey(store, phoneNumberId, identifier);
      const view = await sendAndQueue(
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
      const customer = await store.findCustomer(phoneNumberId, waId);
      res
        .status(202)
        .json({ clientMessageId, status: 'queued', conversation: presentConversation(view, customer) } satisfies SendAnswer);
    },
  );

  // The number's conversations from the store (the inbox state lives only in each workflow, so
  // there is no filter by it): newest activity first, with the window computed from the store.
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
    res.json(
      presentConversation(await machineView<ConversationContext>(client, conversationWorkflowId(phoneNumberId, waId)), customer),
    );
  });

  router.get(`${base}/messages`, async (req, res) => {
    const { phoneNumberId, waId: identifier } = parseRequest(conversationParamsSchema, req.params, 'params');
    const waId = await findConversationKey(store, phoneNumberId, identifier);
    const query = parseRequest(listMessagesQuerySchema, req.query, 'query');
    res.json((await store.listMessages({ phoneNumberId, waId, ...query })) satisfies MessagePage);
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
