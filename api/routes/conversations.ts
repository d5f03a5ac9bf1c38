import { WithStartWorkflowOperation } from '@temporalio/client';
import { Router } from 'express';
import {
  queuedSend,
  windowOf,
  type ConversationContext,
  type ConversationEvent,
  type ConversationInput,
} from '../../machines/conversation';
import { enqueueSignal } from '../../contracts/sender';
import { sendEvent } from '../events';
import { conversationWorkflowId, senderWorkflowId } from '../../contracts/ids';
import { sendUpdate, type MachineEvent, type MachineView } from '../../contracts/machine-api';
import type { ApiDeps } from '../app';
import { requireApiKey } from '../auth';
import { jsonBody } from '../json-body';
import { parseRequest } from '../errors';
import { machineView } from '../machine-view';
import type { ConversationView, ErrorBody, MessagePage, SendAnswer } from '../responses';
import { COEXISTENCE_MESSAGES_PER_SECOND } from '../../machines/meta-codes';
import type { MessageStore } from '../../store';
import { conversationParamsSchema, listMessagesQuerySchema, sendMessageSchema } from '../schemas';

/** The backend's conversation routes: send, read the window, read the messages. */
export function conversationRoutes({ client, config, store }: ApiDeps): Router {
  const router = Router();
  const base = '/numbers/:phoneNumberId/conversations/:waId';
  router.use('/numbers', requireApiKey(config.BACKEND_API_KEY));

  // Applied by Workflow Update: the caller learns at once whether the window allows it (409).
  const queueDepth = cachedQueueDepth(store, config.SEND_QUEUE_DEPTH_LIMIT);

  router.post(`${base}/messages`, ...jsonBody('64kb'), async (req, res) => {
    const { phoneNumberId, waId } = parseRequest(conversationParamsSchema, req.params, 'params');
    const request = parseRequest(sendMessageSchema, req.body, 'body');
    // Backpressure: the number's queue takes SEND_QUEUE_DEPTH_LIMIT sends; it drains at 20 a second.
    const depth = await queueDepth(phoneNumberId);
    const limit = config.SEND_QUEUE_DEPTH_LIMIT;
    if (depth >= limit) {
      const seconds = Math.ceil((depth - limit + 1) / COEXISTENCE_MESSAGES_PER_SECOND) + 1;
      res
        .status(429)
        .set('Retry-After', String(seconds))
        .json({
          error: {
            code: 'send_queue_full',
            message: `The number's send queue holds ${depth} sends, its limit is ${limit}.`,
            hint: `It sends ${COEXISTENCE_MESSAGES_PER_SECOND} messages a second: try again in ${seconds} s.`,
            depth,
            limit,
          },
        } satisfies ErrorBody);
      return;
    }
    const { clientMessageId } = request;
    const input: ConversationInput = { phoneNumberId, waId };
    // The conversation decides (409 outside the window); this request then records the send in the
    // number's queue: no activity in the conversation, and the sender woken only if it sleeps.
    const event = { ...sendEvent(request, Date.now()), recordedByCaller: true } as Extract<ConversationEvent, { type: 'send' }>;
    const view = (await client.workflow.executeUpdateWithStart(sendUpdate, {
      args: [event as MachineEvent],
      startWorkflowOperation: new WithStartWorkflowOperation('conversationWorkflow', {
        workflowId: conversationWorkflowId(phoneNumberId, waId),
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [{ input }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    })) as MachineView<ConversationContext>;
    const { added, wake } = await store.queue.add(queuedSend(view, event));
    // A repeated request cannot know whether the first one's wake went out: it wakes again.
    if (wake || !added) {
      await client.workflow.signalWithStart('senderWorkflow', {
        workflowId: senderWorkflowId(phoneNumberId),
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [{ phoneNumberId }],
        signal: enqueueSignal,
        signalArgs: [
          { conversationWorkflowId: conversationWorkflowId(phoneNumberId, waId), clientMessageId, waId, message: event.message },
        ],
      });
    }
    res.status(202).json({ clientMessageId, status: 'queued', conversation: presentConversation(view) } satisfies SendAnswer);
  });

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

export function presentConversation(view: MachineView<ConversationContext>) {
  const { phoneNumberId, waId, counts } = view.context;
  return { phoneNumberId, waId, ...windowOf(view.context, view.value), counts, state: view.state } satisfies ConversationView;
}

/**
 * A number's queue depth, read at most once a second per number while it is far below the limit
 * (the check then costs nothing per send); read for every send once within a second's worth of it.
 */
function cachedQueueDepth(store: MessageStore, limit: number, ttlMs = 1_000) {
  const cache = new Map<string, { at: number; depth: Promise<number> }>();
  const margin = Math.max(200, Math.ceil(limit * 0.01));
  return async (phoneNumberId: string): Promise<number> => {
    const hit = cache.get(phoneNumberId);
    if (hit && Date.now() - hit.at < ttlMs && (await hit.depth) < limit - margin) return hit.depth;
    const depth = store.queue.depth(phoneNumberId);
    cache.set(phoneNumberId, { at: Date.now(), depth });
    depth.catch(() => cache.delete(phoneNumberId));
    if (cache.size > 10_000) cache.delete(cache.keys().next().value!);
    return depth;
  };
}
