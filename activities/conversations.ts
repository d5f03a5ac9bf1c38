import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { ConversationEffects, ConversationRow } from '../machines/conversation';
import { isSendingBlockCode } from '../machines/meta-codes';
import type { OnboardingEvent } from '../machines/onboarding';
import { senderWorkflowId } from '../contracts/ids';
import { eventSignal, type MachineEvent } from '../contracts/machine-api';
import { enqueueSignal, type SendRequest } from '../contracts/sender';
import type { MessageStore } from '../store/message-store';
import { pushesFor } from './backend-push';
import { parkingEffects } from './parking';
import { numberStateLookup, onboardingByVisibility, type CredentialsLookup } from './number-state';
import { createSenderActivities } from './sender';

export type { CredentialsLookup } from './number-state';

export interface ConversationActivityDeps {
  config: Config;
  store: MessageStore;
  client: Client;
  log: Logger;
  /** Onboardings not in the number registry (started before it); default: Temporal visibility and the state query. */
  credentials?: CredentialsLookup;
  /** TEST HARNESS ONLY (./index.ts): ignore the sender's pacing. */
  testOnlyUnpacedSends?: boolean;
}

/**
 * The conversation machine's effects (the message store, the number's send queue) and the
 * sender's activities (./sender).
 */
export function createConversationActivities({
  config,
  store,
  client,
  log,
  credentials = onboardingByVisibility(client),
  testOnlyUnpacedSends = false,
}: ConversationActivityDeps) {
  const numberState = numberStateLookup(store, credentials);

  /** Wakes the number's sender, starting it if needed (idempotent). */
  async function wakeSender(request: SendRequest & { phoneNumberId: string }) {
    const { phoneNumberId, ...sendRequest } = request;
    await client.workflow.signalWithStart('senderWorkflow', {
      workflowId: senderWorkflowId(phoneNumberId),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ phoneNumberId }],
      signal: enqueueSignal,
      signalArgs: [sendRequest],
    });
  }

  function conversationWorkflowIdOfActivity(): string {
    const id = Context.current().info.workflowExecution?.workflowId;
    if (!id) throw ApplicationFailure.nonRetryable('this activity runs only for a conversation workflow');
    return id;
  }

  const push = pushesFor(config, store);
  // No effect blocks the events behind it: one retrying cannot fix is parked (./parking).
  const effects = parkingEffects(
    {
      async recordMessage(record) {
        await store.recordMessage(record);
        await push.message(record);
      },

      /**
       * A `failed` status with a code that stops the number (payment, policy, token) counts like an
       * immediate refusal: the number's queue is held at once and its onboarding is told.
       */
      async recordStatus(update) {
        await store.applyStatus(update);
        await push.status(update);
        // A status webhook carries the wamid; a refusal told by the sender does not, and the sender acted on it.
        if (update.status !== 'failed' || update.wamid === undefined || !isSendingBlockCode(update.errorCode)) return;
        const code = update.errorCode;
        await store.queue.stop(update.phoneNumberId, code, Date.now());
        const { onboardingWorkflowId } = await numberState(update.phoneNumberId);
        if (!onboardingWorkflowId) return;
        const event: OnboardingEvent = { type: 'send.refused', code, at: update.timestamp };
        try {
          await client.workflow.getHandle(onboardingWorkflowId).signal(eventSignal, event as MachineEvent);
        } catch (err) {
          // The queue is held already; the onboarding learns of it from the next refusal.
          log.warn(
            { onboardingWorkflowId, code, err: (err as Error).message },
            'could not tell the onboarding of a late refusal',
          );
        }
      },

      /** Hands a send recorded by `recordMessage` to the number's sender (conversations from before `queueSend`). */
      async enqueueSend({ phoneNumberId, waId, clientMessageId, message }) {
        const conversationWorkflowId = conversationWorkflowIdOfActivity();
        await wakeSender({ phoneNumberId, conversationWorkflowId, clientMessageId, waId, message });
      },

      /** Records the send in the number's queue, and wakes the sender only if it sleeps. */
      async queueSend(params) {
        const { record } = params;
        const { wake } = await store.queue.add(params);
        // A retried attempt cannot know whether the first one's wake went out: it wakes again.
        if (!wake && Context.current().info.attempt === 1) return;
        await wakeSender({
          phoneNumberId: record.phoneNumberId,
          conversationWorkflowId: conversationWorkflowIdOfActivity(),
          clientMessageId: record.clientMessageId!,
          waId: record.waId,
          message: { type: record.type, ...record.content } as SendRequest['message'],
        });
      },
    } satisfies ConversationEffects,
    store,
    log,
  );

  return {
    ...createSenderActivities({ config, store, client, log, credentials, testOnlyUnpacedSends }),
    ...effects,
    /** The conversation's row in the store (workflows/conversation.ts), which the send API decides from. */
    async recordConversation({ mirroredAt, ...row }: ConversationRow & { mirroredAt: number }) {
      await store.recordConversation(row, mirroredAt);
    },
  };
}
