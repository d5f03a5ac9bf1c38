import { patched } from '@temporalio/workflow';
import {
  conversationDedupeKey,
  conversationRow,
  conversationDedupeKeyBeforeKinds,
  conversationMachine,
  sendRefusal,
  type ConversationContext,
  type ConversationInput,
  type ConversationState,
} from '../machines/conversation';
import { runMachine, type InterpreterOptions, type MachineWorkflowArgs } from './interpreter';

/** Activity options by action name: writes to coexist's own store and queue, retried until done. */
export const conversationActivities: InterpreterOptions<typeof conversationMachine>['activities'] = {
  default: {
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  },
};

/** Histories without this marker recorded a send and handed it to the sender in two activities. */
export const QUEUE_SEND_PATCH = 'queue-send-in-store';

/** Histories without this marker kept no row of the conversation in the store (the send API then asks by Update). */
export const CONVERSATION_ROW_PATCH = 'conversation-row-in-store';

/**
 * One conversation a (business number, customer): `conversation:<phone_number_id>:<wa_id>`
 * (contracts/ids.ts), started by the first webhook or send that names it. Messages live in the
 * message store, not here: the state stays small however long the conversation runs, and
 * continue-as-new carries the window deadlines and the de-duplication keys (Meta's redeliveries).
 *
 * Versioning: a run with the `message-dedupe-by-content` marker tells messages apart by kind and
 * content when it drops repeats (an echo reusing a customer message's id, or a different message
 * under a known id, reaches the store and is kept as a conflict); one without it (its history was
 * written by older code) replays with one key a message id.
 *
 * A run with the `conversation-row-in-store` marker keeps its row in the store whenever it changes
 * (machines/conversation/stored.ts: inbox, free entry point, how the window last opened or closed;
 * never per message): the send API decides a send from it without a workflow task, and asks this
 * workflow (its `send` Update) only when there is no row or the inbox is closed.
 */
export async function conversationWorkflow(args: MachineWorkflowArgs<ConversationInput>) {
  return runMachine(
    {
      machine: conversationMachine,
      activities: conversationActivities,
      dedupeKey: patched('message-dedupe-by-content') ? conversationDedupeKey : conversationDedupeKeyBeforeKinds,
      refusal: sendRefusal,
      // Window deadlines and their timers on one clock: the workflow's.
      receivedAtField: 'at',
      continueAsNewAfterEvents: 1_000,
      dedupeMaxEntries: 10_000,
      mirror: {
        activity: 'recordConversation',
        patch: CONVERSATION_ROW_PATCH,
        of: (snapshot) => conversationRow(snapshot as ConversationState),
      },
    },
    patched(QUEUE_SEND_PATCH) ? queueingInStore(args) : args,
  );
}

/** The arguments with `queueInStore` set, in the input and in a carried snapshot alike. */
function queueingInStore(args: MachineWorkflowArgs<ConversationInput>): MachineWorkflowArgs<ConversationInput> {
  const input = { ...args.input, settings: { ...args.input.settings, queueInStore: true } };
  if (!args.carried) return { ...args, input };
  const snapshot = args.carried.snapshot as { context: ConversationContext };
  const context = { ...snapshot.context, settings: { ...snapshot.context.settings, queueInStore: true } };
  return { ...args, input, carried: { ...args.carried, snapshot: { ...snapshot, context } } };
}
