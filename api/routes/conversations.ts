import { WithStartWorkflowOperation } from '@temporalio/client';
import { Router } from 'express';
import { windowOf, type ConversationContext, type ConversationInput } from '../../machines/conversation';
import { sendEvent } from '../events';
import { conversationWorkflowId } from '../../contracts/ids';
import { sendUpdate, type MachineEvent, type MachineView } from '../../contracts/machine-api';
import type { ApiDeps } from '../app';
import { requireApiKey } from '../auth';
import { jsonBody } from '../json-body';
import { parseRequest } from '../errors';
import { machineView } from '../machine-view';
import type { ConversationView, MessagePage, SendAnswer } from '../responses';
import { conversationParamsSchema, listMessagesQuerySchema, sendMessageSchema } from '../schemas';

/** The backend's conversation routes: send, read the window, read the messages. */
export function conversationRoutes({ client, config, store }: ApiDeps): Router {
  const router = Router();
  const base = '/numbers/:phoneNumberId/conversations/:waId';
  router.use('/numbers', requireApiKey(config.BACKEND_API_KEY));

  // Applied by Workflow Update: the caller learns at once whether the window allows it (409).
  router.post(`${base}/messages`, ...jsonBody('64kb'), async (req, res) => {
    const { phoneNumberId, waId } = parseRequest(conversationParamsSchema, req.params, 'params');
    const request = parseRequest(sendMessageSchema, req.body, 'body');
    const { clientMessageId } = request;
    const input: ConversationInput = { phoneNumberId, waId };
    const event = sendEvent(request, Date.now());
    const view = (await client.workflow.executeUpdateWithStart(sendUpdate, {
      args: [event as MachineEvent],
      startWorkflowOperation: new WithStartWorkflowOperation('conversationWorkflow', {
        workflowId: conversationWorkflowId(phoneNumberId, waId),
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [{ input }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    })) as MachineView<ConversationContext>;
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
