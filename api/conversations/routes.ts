import { Router } from 'express';
import type { ConversationContext } from '../../machines/conversation';
import { conversationWorkflowId } from '../../contracts/ids';
import type { ApiDeps } from '../deps';
import { requireApiKey } from '../http/auth';
import { idempotent } from '../http/idempotency';
import { parseRequest } from '../http/errors';
import { jsonBody } from '../http/json-body';
import { machineView } from '../machine-view';
import { sendQueueLimit } from './backpressure';
import { sendEvent } from './events';
import { presentConversation } from './presenter';
import {
  conversationParamsSchema,
  listMessagesQuerySchema,
  sendMessageSchema,
  type MessagePage,
  type SendAnswer,
} from './schemas';
import { sendAndQueue } from './workflow';

/** The backend's conversation routes: send, read the window, read the messages. */
export function conversationRoutes({ client, config, log, store }: ApiDeps): Router {
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
      const { phoneNumberId, waId } = parseRequest(conversationParamsSchema, req.params, 'params');
      const request = parseRequest(sendMessageSchema, req.body, 'body');
      const { clientMessageId } = request;
      const view = await sendAndQueue(
        client,
        config.TEMPORAL_TASK_QUEUE,
        store,
        { phoneNumberId, waId },
        sendEvent(request, Date.now()),
      );
      res.status(202).json({ clientMessageId, status: 'queued', conversation: presentConversation(view) } satisfies SendAnswer);
    },
  );

  router.get(base, async (req, res) => {
    const { phoneNumberId, waId } = parseRequest(conversationParamsSchema, req.params, 'params');
    res.json(presentConversation(await machineView<ConversationContext>(client, conversationWorkflowId(phoneNumberId, waId))));
  });

  router.get(`${base}/messages`, async (req, res) => {
    const { phoneNumberId, waId } = parseRequest(conversationParamsSchema, req.params, 'params');
    const query = parseRequest(listMessagesQuerySchema, req.query, 'query');
    res.json((await store.listMessages({ phoneNumberId, waId, ...query })) satisfies MessagePage);
  });

  return router;
}
