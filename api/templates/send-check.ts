/**
 * What the templates known for a number mean for a send: a template Meta would not send is refused
 * before it reaches Meta, and a refusal for a closed window names the templates that can go.
 */
import type { OutboundContent } from '../../machines/conversation';
import { templateRefusal } from '../../machines/templates';
import type { MessageStore } from '../../store/message-store';
import { ApiError } from '../http/errors';
import type { NumberWabaLookup } from '../number-waba';

/** Shown at most in a hint: the rest are in `GET /numbers/:phoneNumberId/templates`. */
const HINTED_TEMPLATES = 10;

export function templateChecks(store: MessageStore, wabaOf: NumberWabaLookup) {
  const sendable = async (wabaId: string) => (await store.listTemplates(wabaId)).filter((t) => templateRefusal(t) === undefined);

  return {
    /** 409 `template_not_sendable` when the template is known to be rejected, paused, disabled, ... */
    async refuseUnsendable(phoneNumberId: string, message: OutboundContent): Promise<void> {
      if (message.type !== 'template') return;
      const wabaId = await wabaOf(phoneNumberId);
      if (!wabaId) return; // no onboarding holds the number: the sender answers for it
      const { name, language } = message.template;
      const known = await store.getTemplate(wabaId, name, language);
      const refusal = known && templateRefusal(known);
      if (!refusal) return;
      const others = (await sendable(wabaId)).map((t) => `${t.name} (${t.language})`);
      throw new ApiError(
        409,
        'template_not_sendable',
        `The template ${name} (${language}) is ${refusal.status} at Meta` +
          `${known.reason && known.reason !== 'NONE' ? ` (${known.reason})` : ''}; Meta would refuse it with ${refusal.metaCode}.`,
        'body.message.template.name',
        others.length
          ? `Templates that can be sent: ${others.slice(0, HINTED_TEMPLATES).join(', ')}.`
          : 'No template of this number can be sent now: create one in WhatsApp Manager and wait for its approval.',
      );
    },

    /** The approved templates of the number, for the hint of a closed window's refusal. */
    async sendableHint(phoneNumberId: string): Promise<string | undefined> {
      const wabaId = await wabaOf(phoneNumberId);
      if (!wabaId) return undefined;
      const names = (await sendable(wabaId)).map((t) => `${t.name} (${t.language})`);
      return names.length ? `Templates that can be sent: ${names.slice(0, HINTED_TEMPLATES).join(', ')}.` : undefined;
    },
  };
}

export type TemplateChecks = ReturnType<typeof templateChecks>;
