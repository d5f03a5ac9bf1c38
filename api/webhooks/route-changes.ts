import type { OnboardingEvent } from '../../machines/onboarding';
import { HISTORY_DECLINED_CODE } from '../../machines/meta-codes';
import { templateLanguage, type TemplateRecord } from '../../machines/templates';
import type { ContactChange } from '../../store/contacts';
import type { HistoryMedia } from '../../store/history-media';
import { META_ID, onboardingWorkflowId, toE164, toWaId } from '../../contracts/ids';
import { eventTimeMs } from './time';
import {
  echoChanges,
  historyMediaChanges,
  historyMessageChanges,
  messagesChanges,
  type ConversationDelivery,
} from './conversation-changes';
import type { NumberCheck } from './number-check';
import { isRecord, keepValidHistoryMessages, keepValidItems } from './salvage';
import {
  accountUpdateSchema,
  echoMessageSchema,
  echoesValueSchema,
  inboundMessageSchema,
  messageSchema,
  statusSchema,
  historySchema,
  historyMediaSchema,
  messagesValueSchema,
  nameUpdateSchema,
  qualityUpdateSchema,
  stateSyncItemSchema,
  stateSyncValueSchema,
  templateStatusUpdateSchema,
  type Envelope,
} from './schemas';

/** One event for one onboarding. */
export interface Delivery {
  workflowId: string;
  event: OnboardingEvent;
}

export interface Routed {
  deliveries: Delivery[];
  /** Messages, echoes and statuses, each for its conversation (signal-with-start). */
  conversations: ConversationDelivery[];
  /** Lifecycle events that name no number (ACCOUNT_OFFBOARDED, ...): for the WABA's onboarding. */
  byWaba: { wabaId: string; event: OnboardingEvent }[];
  /** Template statuses of the entry's WABA, for the store (no workflow needs them). */
  templates: TemplateRecord[];
  /** The phone app's contacts and the profile names on messages, for each number's contact book. */
  contacts: ContactChange[];
  /** History media follow-ups, for their placeholders in the store (no window, no live message). */
  historyMedia: HistoryMedia[];
  /** Changes kept but not routed to a workflow, by classification (e.g. `field:foo`). */
  unrouted: string[];
  /** Each change's field, and whether it was addressed to any workflow (for the metrics). */
  changes: { field: string; routed: boolean }[];
}

/**
 * Turns a webhook envelope into onboarding and conversation events; what it cannot route is classified.
 * `receivedAt` (epoch ms) stamps events whose Meta payload carries no time of its own. A change that
 * names a business number is routed only when `numbers` accepts it under the entry's WABA; else
 * the whole change is classified with the refusal.
 */
export function routeChanges(envelope: Envelope, receivedAt: number, numbers: NumberCheck): Routed {
  const deliveries: Delivery[] = [];
  const conversations: ConversationDelivery[] = [];
  const byWaba: Routed['byWaba'] = [];
  const unrouted: string[] = [];
  const templates: TemplateRecord[] = [];
  const contacts: ContactChange[] = [];
  const historyMedia: HistoryMedia[] = [];
  const changes: Routed['changes'] = [];
  const addressed = () =>
    deliveries.length + conversations.length + byWaba.length + templates.length + contacts.length + historyMedia.length;
  const onboarding = (display: string | undefined) => {
    const e164 = display ? toE164(display) : undefined;
    return e164 ? onboardingWorkflowId(e164) : undefined;
  };

  for (const entry of envelope.entry) {
    /** True (and classified) when the registry refuses the number under this entry's WABA. */
    const refused = (phoneNumberId: string) => {
      const refusal = META_ID.test(phoneNumberId) ? numbers(phoneNumberId, entry.id) : undefined;
      if (refusal) unrouted.push(refusal);
      return refusal !== undefined;
    };
    for (const change of entry.changes) {
      const before = addressed();
      switch (change.field) {
        case 'account_update': {
          const v = accountUpdateSchema.safeParse(change.value);
          if (!v.success) {
            unrouted.push('account_update:malformed');
            break;
          }
          // No entry[].time: the onboarding takes the received time (never 0, which fenced it out).
          const info = v.data.restriction_info ?? v.data.ban_info ?? v.data.violation_info;
          const event: OnboardingEvent = {
            type: 'account.update',
            event: v.data.event,
            ...(entry.time !== undefined ? { eventTime: entry.time } : {}),
            receivedAt,
            ...(info !== undefined ? { detail: JSON.stringify(info) } : {}),
            ...(v.data.disconnection_info?.reason ? { reason: v.data.disconnection_info.reason } : {}),
            ...(v.data.disconnection_info?.initiated_by ? { initiatedBy: v.data.disconnection_info.initiated_by } : {}),
          };
          const workflowId = onboarding(v.data.phone_number);
          // Partner events carry the partner's portfolio in entry.id; the WABA is in waba_info.
          if (workflowId) deliveries.push({ workflowId, event });
          else byWaba.push({ wabaId: v.data.waba_info?.waba_id ?? entry.id, event });
          break;
        }
        case 'history': {
          if (isRecord(change.value) && Array.isArray(change.value.messages) && !('history' in change.value)) {
            const v = historyMediaSchema.safeParse(
              keepValidItems(change.value, 'messages', messageSchema, unrouted, 'history:malformed_message'),
            );
            if (!v.success) unrouted.push('history:malformed');
            else if (!refused(v.data.metadata.phone_number_id)) historyMedia.push(...historyMediaChanges(v.data, unrouted));
            break;
          }
          const v = historySchema.safeParse(keepValidHistoryMessages(change.value, unrouted));
          const workflowId = v.success ? onboarding(v.data.metadata.display_phone_number) : undefined;
          if (!v.success || !workflowId) {
            unrouted.push('history:malformed');
            break;
          }
          if (refused(v.data.metadata.phone_number_id)) break;
          conversations.push(...historyMessageChanges(v.data, receivedAt, unrouted));
          for (const chunk of v.data.history) {
            if (chunk.errors?.some((e) => e.code === HISTORY_DECLINED_CODE)) {
              deliveries.push({ workflowId, event: { type: 'history.declined', at: receivedAt } });
            } else if (chunk.metadata?.progress !== undefined) {
              deliveries.push({
                workflowId,
                event: {
                  type: 'history.progress',
                  progress: chunk.metadata.progress,
                  phase: chunk.metadata.phase ?? 0,
                  chunkOrder: chunk.metadata.chunk_order ?? 0,
                  at: receivedAt,
                },
              });
            }
          }
          break;
        }
        case 'phone_number_quality_update': {
          const v = qualityUpdateSchema.safeParse(change.value);
          const workflowId = v.success ? onboarding(v.data.display_phone_number) : undefined;
          if (!v.success || !workflowId) {
            unrouted.push('phone_number_quality_update:malformed');
            break;
          }
          const tier = v.data.max_daily_conversations_per_business ?? v.data.current_limit;
          deliveries.push({
            workflowId,
            event: {
              type: 'account.qualityUpdate',
              eventTime: entry.time ?? 0,
              ...(v.data.event ? { event: v.data.event } : {}),
              ...(tier ? { messagingLimitTier: tier } : {}),
            },
          });
          break;
        }
        case 'phone_number_name_update': {
          const v = nameUpdateSchema.safeParse(change.value);
          const workflowId = v.success ? onboarding(v.data.display_phone_number) : undefined;
          if (!v.success || !workflowId) {
            unrouted.push('phone_number_name_update:malformed');
            break;
          }
          deliveries.push({
            workflowId,
            event: {
              type: 'account.nameUpdate',
              decision: v.data.decision,
              eventTime: entry.time ?? 0,
              ...(v.data.requested_verified_name ? { requestedVerifiedName: v.data.requested_verified_name } : {}),
            },
          });
          break;
        }
        case 'messages': {
          const items = keepValidItems(change.value, 'messages', inboundMessageSchema, unrouted, 'messages:malformed_message');
          const v = messagesValueSchema.safeParse(
            keepValidItems(items, 'statuses', statusSchema, unrouted, 'statuses:malformed_status'),
          );
          if (!v.success) {
            unrouted.push('messages:malformed');
            break;
          }
          if (refused(v.data.metadata.phone_number_id)) break;
          conversations.push(...messagesChanges(v.data, receivedAt, unrouted));
          for (const c of v.data.contacts ?? []) {
            const phoneNumber = c.wa_id ? toWaId(c.wa_id) : undefined;
            const storable = [c.profile?.name, c.user_id].every((t) => !t?.includes('\u0000'));
            if (!c.profile?.name || (!phoneNumber && !c.user_id) || !storable || !META_ID.test(v.data.metadata.phone_number_id))
              continue;
            contacts.push({
              phoneNumberId: v.data.metadata.phone_number_id,
              ...(phoneNumber ? { phoneNumber } : {}),
              ...(c.user_id ? { userId: c.user_id } : {}),
              action: 'profile',
              profileName: c.profile.name,
              changedAt: contactTime(v.data.messages?.[0]?.timestamp, receivedAt),
            });
          }
          break;
        }
        case 'smb_message_echoes': {
          const v = echoesValueSchema.safeParse(
            keepValidItems(change.value, 'message_echoes', echoMessageSchema, unrouted, 'smb_message_echoes:malformed_message'),
          );
          if (!v.success) unrouted.push('smb_message_echoes:malformed');
          else if (!refused(v.data.metadata.phone_number_id)) conversations.push(...echoChanges(v.data, receivedAt, unrouted));
          break;
        }
        case 'smb_app_state_sync': {
          const v = stateSyncValueSchema.safeParse(change.value);
          if (!v.success || !META_ID.test(v.data.metadata.phone_number_id)) {
            unrouted.push('smb_app_state_sync:malformed');
            break;
          }
          if (refused(v.data.metadata.phone_number_id)) break;
          const phoneNumberId = v.data.metadata.phone_number_id;
          for (const raw of v.data.state_sync) {
            const item = stateSyncItemSchema.safeParse(raw);
            const contact = item.success ? item.data.contact : undefined;
            const phoneNumber = contact?.phone_number ? toWaId(contact.phone_number) : undefined;
            const action = item.success && item.data.type === 'contact' ? item.data.action : undefined;
            if ((action !== 'add' && action !== 'remove') || (!phoneNumber && !contact?.user_id)) {
              unrouted.push(
                item.success ? `smb_app_state_sync:${item.data.type}:${item.data.action}` : 'smb_app_state_sync:malformed_item',
              );
              continue;
            }
            contacts.push({
              phoneNumberId,
              ...(phoneNumber ? { phoneNumber } : {}),
              ...(contact?.user_id ? { userId: contact.user_id } : {}),
              action,
              ...(contact?.full_name ? { fullName: contact.full_name } : {}),
              ...(contact?.first_name ? { firstName: contact.first_name } : {}),
              changedAt: contactTime(item.data?.metadata?.timestamp, receivedAt),
            });
          }
          break;
        }
        case 'message_template_status_update': {
          const v = templateStatusUpdateSchema.safeParse(change.value);
          if (!v.success) {
            unrouted.push('message_template_status_update:malformed');
            break;
          }
          const { event, message_template_id: id, message_template_category: category, reason } = v.data;
          templates.push({
            wabaId: entry.id,
            name: v.data.message_template_name,
            language: templateLanguage(v.data.message_template_language),
            ...(id !== undefined ? { templateId: String(id) } : {}),
            status: event,
            ...(category ? { category } : {}),
            ...(reason ? { reason } : {}),
            // Meta's time, never ahead of ours; the received time when the entry has none.
            reportedAt: entry.time !== undefined ? Math.min(entry.time * 1000, receivedAt) : receivedAt,
          });
          break;
        }
        default:
          unrouted.push(`field:${change.field}`);
      }
      changes.push({ field: change.field, routed: addressed() > before });
    }
  }
  return { deliveries, conversations, byWaba, templates, contacts, historyMedia, unrouted, changes };
}

/** When Meta says a contact changed (epoch ms), never after it was received; the received time when it names none. */
function contactTime(seconds: number | undefined, receivedAt: number): number {
  return Math.min(eventTimeMs(seconds, receivedAt), receivedAt);
}
