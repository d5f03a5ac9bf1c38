/**
 * What the inbox keeps of a routed delivery: one item per event, each under a stable key, so that
 * a redelivery (Meta resends the same events, in the same or other batches) queues nothing twice.
 */
import { createHash } from 'node:crypto';
import type { ConversationEvent, ConversationInput } from '../../machines/conversation';
import { conversationDedupeKey } from '../../machines/conversation';
import type { OnboardingEvent } from '../../machines/onboarding';
import type { NewItem } from '../../store/inbox';
import type { Routed } from './route-changes';

export type InboxItem =
  /** For a conversation workflow, started with `conversation` if it is not running (signal-with-start). */
  | { kind: 'conversation'; conversation: ConversationInput; event: ConversationEvent }
  /** For a running onboarding workflow. */
  | { kind: 'onboarding'; event: OnboardingEvent }
  /** For every running onboarding of the WABA (lifecycle events that name no number). */
  | { kind: 'waba'; wabaId: string; event: OnboardingEvent };

/** The inbox's workflow column for an item addressed by WABA (resolved when it is dispatched). */
export const wabaAddress = (wabaId: string) => `waba:${wabaId}`;

export function inboxItems(routed: Routed): (NewItem & { item: InboxItem })[] {
  return [
    ...routed.deliveries.map(({ workflowId, event }) => ({
      key: itemKey(workflowId, event),
      workflowId,
      item: { kind: 'onboarding', event } as const,
    })),
    ...routed.byWaba.map(({ wabaId, event }) => ({
      key: itemKey(wabaAddress(wabaId), event),
      workflowId: wabaAddress(wabaId),
      item: { kind: 'waba', wabaId, event } as const,
    })),
    ...routed.conversations.map(({ workflowId, conversation, event }) => {
      const messageId = 'message' in event ? (event.message as { id?: unknown }).id : undefined;
      return {
        key: itemKey(workflowId, event),
        workflowId,
        item: { kind: 'conversation', conversation, event } as const,
        // A message's item is found again by its id: the read API returns the bytes it came in.
        ...(typeof messageId === 'string' ? { message: { phoneNumberId: conversation.phoneNumberId, id: messageId } } : {}),
      };
    }),
  ];
}

/**
 * A message or status by its own id (the conversation's dedupe key); any other event by its
 * content without the time it was received at, which is all a redelivery changes.
 */
function itemKey(address: string, event: ConversationEvent | OnboardingEvent): string {
  const natural = conversationDedupeKey(event as ConversationEvent);
  // Meta sets no length on a message id: a long one is keyed by its hash, which an index can hold.
  if (natural) return `${address}|${natural.length > MAX_NATURAL_KEY ? `sha256:${sha256(natural)}` : natural}`;
  const { at: _at, receivedAt: _receivedAt, ...content } = event as Record<string, unknown>;
  return `${address}|${event.type}:${sha256(JSON.stringify(content))}`;
}

const MAX_NATURAL_KEY = 512;
const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
