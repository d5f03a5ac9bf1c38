/**
 * The send path's decision and record. A send is decided from the conversation's row in the
 * message store (machines/conversation/stored.ts) and recorded in the number's queue, with no
 * workflow task: the conversation learns of it only if its machine needs to (a refusal or Meta's
 * acceptance, told by the sender). The conversation's Update decides instead when the store cannot:
 * no row (a conversation not started yet, or started before the row), a closed inbox (the send
 * opens it), or a free-form send the store finds outside the window (the machine's refusal, in its
 * words; a customer message it has taken and the store not yet recorded opens the window there).
 */
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import {
  maySend,
  queuedSend,
  storedWindow,
  windowOf,
  type ConversationContext,
  type ConversationEvent,
  type ConversationInput,
  type ConversationWindow,
  type MessageCounts,
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

/** The conversation a send was decided in: its windows then, and its counts with the send. */
export interface SentIn {
  window: ConversationWindow;
  counts: MessageCounts;
}

/**
 * Decides the send (409 outside the window, from the machine), records it in the number's queue
 * with its pricing, and wakes the sender only if it sleeps.
 */
export async function sendAndQueue(
  client: Client,
  taskQueue: string,
  store: MessageStore,
  input: ConversationInput,
  send: SendEvent,
): Promise<SentIn> {
  const event: SendEvent = { ...send, recordedByCaller: true };
  const { phoneNumberId, waId } = input;
  const stored = await store.getConversation(phoneNumberId, waId);
  const fromStore = storedWindow(stored, event.at);
  const window =
    fromStore?.inbox === 'open' && maySend(event.message, fromStore.customerServiceWindow.status === 'open')
      ? fromStore
      : windowOf(await sendToConversation(client, taskQueue, input, event));
  const { added, wake } = await store.queue.add(queuedSend(input, window, event));
  // A repeated request cannot know whether the first one's wake went out: it wakes again.
  if (wake || !added) {
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
  return { window, counts: { ...stored.counts, platform: stored.counts.platform + (added ? 1 : 0) } };
}
