/**
 * The conversations' Temporal side: a send applied by Workflow Update, starting the conversation if
 * need be, then recorded in the number's send queue and the sender woken if it sleeps.
 */
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import {
  queuedSend,
  type ConversationContext,
  type ConversationEvent,
  type ConversationInput,
} from '../../machines/conversation';
import { conversationWorkflowId, senderWorkflowId } from '../../contracts/ids';
import { sendUpdate, type MachineEvent, type MachineView } from '../../contracts/machine-api';
import { enqueueSignal } from '../../contracts/sender';
import type { MessageStore } from '../../store/message-store';

export type ConversationMachineView = MachineView<ConversationContext>;
type SendEvent = Extract<ConversationEvent, { type: 'send' }>;

/** Resolves once the machine took the send (its view after it); a refusal rejects (409 via api/http/errors.ts). */
export async function sendToConversation(
  client: Client,
  taskQueue: string,
  input: ConversationInput,
  event: ConversationEvent,
): Promise<ConversationMachineView> {
  return (await client.workflow.executeUpdateWithStart(sendUpdate, {
    args: [event as MachineEvent],
    startWorkflowOperation: new WithStartWorkflowOperation('conversationWorkflow', {
      workflowId: conversationWorkflowId(input.phoneNumberId, input.waId),
      taskQueue,
      args: [{ input }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  })) as ConversationMachineView;
}

/**
 * The conversation decides (409 outside the window), then this request records the send in the
 * number's queue: no activity in the conversation, and the sender woken only if it sleeps.
 */
export async function sendAndQueue(
  client: Client,
  taskQueue: string,
  store: MessageStore,
  input: ConversationInput,
  send: SendEvent,
): Promise<ConversationMachineView> {
  const event: SendEvent = { ...send, recordedByCaller: true };
  const view = await sendToConversation(client, taskQueue, input, event);
  const { added, wake } = await store.queue.add(queuedSend(view, event));
  // A repeated request cannot know whether the first one's wake went out: it wakes again.
  if (wake || !added) {
    const { phoneNumberId, waId } = input;
    await client.workflow.signalWithStart('senderWorkflow', {
      workflowId: senderWorkflowId(phoneNumberId),
      taskQueue,
      args: [{ phoneNumberId }],
      signal: enqueueSignal,
      signalArgs: [
        {
          conversationWorkflowId: conversationWorkflowId(phoneNumberId, waId),
          clientMessageId: event.clientMessageId,
          waId,
          message: event.message,
        },
      ],
    });
  }
  return view;
}
