import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { ConversationEffects, OutboundContent } from '../machines/conversation';
import { META_API_ERROR, type MetaErrorDetails } from '../machines/interpreter-contract';
import { isSendThrottlingCode, RETRYABLE_META_CODES } from '../machines/meta-codes';
import type { OnboardingContext } from '../machines/onboarding';
import { sends } from '../observability/metrics';
import { META_ID, senderWorkflowId } from '../contracts/ids';
import { stateQuery, type MachineView } from '../contracts/machine-api';
import {
  enqueueSignal,
  type SendAnswer,
  type SenderActivities,
  type SendMessageInput,
  type SendOutcome,
} from '../contracts/sender';
import { GraphClient } from './meta/graph-client';
import type { MessageStore } from '../store/message-store';
import { unsealToken } from './token-vault';

export interface ConversationActivityDeps {
  config: Config;
  store: MessageStore;
  client: Client;
  log: Logger;
  /** Where a number's onboarding and sealed token are found; default: Temporal visibility and the state query. */
  credentials?: CredentialsLookup;
  /** TEST HARNESS ONLY (./index.ts): ignore the sender's pacing. */
  testOnlyUnpacedSends?: boolean;
}

export type CredentialsLookup = (phoneNumberId: string) => Promise<{ workflowId: string; sealedToken: string } | undefined>;

/**
 * The conversation machine's effects (the message store, the sender queue) and the sender's one
 * activity, `sendMessage`.
 */
export function createConversationActivities({
  config,
  store,
  client,
  log,
  credentials = onboardingCredentials(client),
  testOnlyUnpacedSends = false,
}: ConversationActivityDeps) {
  const graph = new GraphClient({
    baseUrl: config.META_GRAPH_BASE_URL,
    apiVersion: config.META_GRAPH_API_VERSION,
    appId: config.META_APP_ID,
    appSecret: config.META_APP_SECRET,
  });

  return {
    async recordMessage(record) {
      await store.recordMessage(record);
    },

    async recordStatus(update) {
      await store.applyStatus(update);
    },

    /** Hands an accepted send to the number's sender, starting it if needed (idempotent). */
    async enqueueSend({ phoneNumberId, waId, clientMessageId, message }) {
      const conversationWorkflowId = Context.current().info.workflowExecution?.workflowId;
      if (!conversationWorkflowId) throw ApplicationFailure.nonRetryable('enqueueSend runs only for a conversation workflow');
      await client.workflow.signalWithStart('senderWorkflow', {
        workflowId: senderWorkflowId(phoneNumberId),
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [{ phoneNumberId }],
        signal: enqueueSignal,
        signalArgs: [{ conversationWorkflowId, clientMessageId, waId, message }],
      });
    },

    /** Counted by outcome in coexist_sends_total. */
    async sendMessage(input: SendMessageInput): Promise<SendAnswer> {
      const wait = testOnlyUnpacedSends ? 0 : (input.notBefore ?? 0) - Date.now();
      if (wait > 0) await Context.current().sleep(wait);
      try {
        const result = await send(input);
        sends.inc({ outcome: result.outcome });
        return { ...result, answeredAt: Date.now() };
      } catch (err) {
        sends.inc({ outcome: 'error' });
        throw err;
      }
    },
  } satisfies ConversationEffects & SenderActivities;

  async function send(input: SendMessageInput): Promise<SendOutcome> {
    const onboarding = await credentials(input.phoneNumberId);
    if (!onboarding) return { outcome: 'refused', title: `no active onboarding holds phone number id ${input.phoneNumberId}` };
    const { workflowId: onboardingWorkflowId } = onboarding;
    try {
      const token = unsealToken(onboarding.sealedToken, config.TOKEN_SEALING_KEY);
      const { messageId } = await graph.sendMessage(input.phoneNumberId, token, metaMessage(input));
      return { outcome: 'accepted', wamid: messageId, onboardingWorkflowId };
    } catch (err) {
      if (!(err instanceof ApplicationFailure)) throw err;
      if (err.type === META_API_ERROR) {
        const { code, detail } = err.details?.[0] as MetaErrorDetails;
        if (isSendThrottlingCode(code)) return { outcome: 'throttled', code };
        if (RETRYABLE_META_CODES.includes(code) || (!err.nonRetryable && code >= 500))
          return { outcome: 'retry', code, reason: err.message };
        return { outcome: 'refused', code, title: detail ?? err.message, onboardingWorkflowId };
      }
      if (err.type === 'MetaUnreachable') {
        const { requestSent } = (err.details?.[0] ?? { requestSent: true }) as { requestSent: boolean };
        if (!requestSent) return { outcome: 'retry', reason: err.message };
        log.warn(
          { phoneNumberId: input.phoneNumberId, clientMessageId: input.clientMessageId },
          'send unconfirmed: the request may have reached Meta',
        );
        return { outcome: 'unconfirmed', reason: err.message };
      }
      return { outcome: 'refused', title: err.message, onboardingWorkflowId };
    }
  }
}

/** Meta's `/messages` body for an outbound message (docs/meta.md#sending). */
export function metaMessage({ waId, clientMessageId, message }: Pick<SendMessageInput, 'waId' | 'clientMessageId' | 'message'>) {
  return { to: waId, biz_opaque_callback_data: clientMessageId, ...metaContent(message) };
}

function metaContent(message: OutboundContent): { type: string; [key: string]: unknown } {
  switch (message.type) {
    case 'text':
      return { type: 'text', text: { body: message.text.body, preview_url: message.text.previewUrl ?? false } };
    case 'template': {
      const { name, language, components } = message.template;
      return { type: 'template', template: { name, language: { code: language }, ...(components ? { components } : {}) } };
    }
    case 'reaction':
      return { type: 'reaction', reaction: { message_id: message.reaction.messageId, emoji: message.reaction.emoji } };
    default:
      return message as { type: string };
  }
}

/**
 * The running onboarding of a phone number id and its sealed business token, found through
 * visibility (search attribute PhoneNumberId) and the onboarding's state query; cached briefly.
 */
export function onboardingCredentials(client: Client, ttlMs = 60_000): CredentialsLookup {
  const cache = new Map<string, { at: number; value: { workflowId: string; sealedToken: string } | undefined }>();
  return async (phoneNumberId: string) => {
    const hit = cache.get(phoneNumberId);
    if (hit && Date.now() - hit.at < ttlMs) return hit.value;
    if (!META_ID.test(phoneNumberId)) return undefined;
    let value: { workflowId: string; sealedToken: string } | undefined;
    for await (const execution of client.workflow.list({
      query: `PhoneNumberId = '${phoneNumberId}' AND ExecutionStatus = 'Running'`,
    })) {
      const view = (await client.workflow.getHandle(execution.workflowId).query(stateQuery)) as MachineView<OnboardingContext>;
      if (view.context.sealedToken) value = { workflowId: execution.workflowId, sealedToken: view.context.sealedToken };
      break;
    }
    if (value) cache.set(phoneNumberId, { at: Date.now(), value });
    return value;
  };
}
