/**
 * The conversation machine's package: the statechart (./machine) and, beside it, what it reacts
 * to (./events), remembers (./context), asks the world to do (./effects), writes (./records,
 * ./messages), decides with (./rules), drops as repeats (./dedupe), shows (./read-model) and keeps
 * in the store for the send API (./stored). This file is its public surface.
 */
export { conversationMachine, type ConversationSnapshot } from './machine';
export type * from './context';
export type * from './effects';
export type * from './events';
export type * from './messages';
export { MESSAGE_STATUS_ORDER } from './messages';
export * from './settings';
export * from './read-model';
export { conversationDedupeKey, conversationDedupeKeyBeforeKinds } from './dedupe';
export { queuedSend } from './queued-send';
export { conversationRow, storedWindow, stateValueOf, type ConversationRow, type StoredConversation } from './stored';
export {
  classifyInbound,
  maySend,
  messageRefusal,
  MESSAGE_REFUSAL_REMEDIES,
  predictPricing,
  UNSUPPORTED_NOTICES,
  unsupportedNotice,
} from './rules';
