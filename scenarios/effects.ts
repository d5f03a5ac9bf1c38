/**
 * Which effects of a covered transition a scenario checks. An effect is what a transition asks the
 * world to do: a custom action (a backend notice is named by its kind) or an actor it starts. A
 * scenario checks it when, after the effect was emitted, an expectation that observes it holds:
 * a notice by the callbacks of its kind, a message effect by the customer's messages, an actor by
 * a field of the onboarding read model that its result fills.
 */
import type { Action, MicrostepRecord } from './machine-driver';
import type { Expectation } from './schema';
import type { Coverage } from './coverage';
import { transitionKey } from './coverage';

export interface Effect {
  /** `notifyBackend(<kind>)`, `<action>` or `invoke <src>`. */
  name: string;
  /** The customer a conversation's effect concerns. */
  waId?: string;
}

/** The fields of `GET /onboardings/:phone` each actor's result fills. */
const ACTOR_FIELDS: Record<string, readonly string[]> = {
  exchangeSignupCode: [],
  lookupPhoneNumber: ['phoneNumberId', 'registration'],
  subscribeApp: [],
  checkRegistration: ['registration'],
  requestSync: ['sync'],
  checkPaymentMethod: ['payment', 'statusCard'],
  fetchStatusCard: ['statusCard'],
};
/** Custom actions whose outcome the onboarding read model shows. */
const ACTION_FIELDS: Record<string, readonly string[]> = { startLinkingAttempt: ['linking'] };
/** Conversation effects, seen in the customer's messages. */
const MESSAGE_EFFECTS = ['recordMessage', 'recordStatus', 'enqueueSend'];

/** The effects a microstep's actions name. */
export function effectsOf(actions: Action[], waId?: string): Effect[] {
  return actions.flatMap((a): Effect[] => {
    const p = a.params as Record<string, unknown> | undefined;
    if (a.type === 'xstate.spawnChild') return [{ name: `invoke ${String(p?.src)}` }];
    if (a.type.startsWith('xstate.')) return [];
    if (a.type === 'notifyBackend') return [{ name: `notifyBackend(${String(p?.kind)})` }];
    return [{ name: a.type, ...(waId !== undefined && MESSAGE_EFFECTS.includes(a.type) ? { waId } : {}) }];
  });
}

/** Whether an expectation that held observes the effect. */
export function observes(expectation: Expectation, effect: Effect): boolean {
  const notice = /^notifyBackend\((.+)\)$/.exec(effect.name);
  if (notice) return expectation.callbacks?.includes(notice[1]!) ?? false;
  if (effect.waId !== undefined) return expectation.messages?.[effect.waId] !== undefined;
  const actor = /^invoke (.+)$/.exec(effect.name);
  const fields = actor ? ACTOR_FIELDS[actor[1]!] : ACTION_FIELDS[effect.name];
  return (fields ?? []).some((f) => expectation.onboarding?.[f] !== undefined);
}

/**
 * Effects emitted and not yet seen by an expectation, by subject (an onboarding's phone or a
 * conversation's workflow id); an expectation that holds marks what it observes on the coverage.
 */
export class EffectLedger {
  private readonly pending = new Map<string, { coverage: Coverage; transition: string; effect: Effect }[]>();

  /** The transitions of a step's microsteps and the effects each emitted. */
  emitted(subject: string, coverage: Coverage, byMicrostep: MicrostepRecord[], waId?: string): void {
    for (const { taken, actions } of byMicrostep) {
      const effects = effectsOf(actions, waId);
      for (const transition of taken.map(transitionKey))
        for (const effect of effects) {
          coverage.recordEffect(transition, effect.name);
          const list = this.pending.get(subject) ?? [];
          list.push({ coverage, transition, effect });
          this.pending.set(subject, list);
        }
    }
  }

  held(expectation: Expectation, subjects: string[]): void {
    for (const subject of subjects)
      for (const { coverage, transition, effect } of this.pending.get(subject) ?? [])
        if (observes(expectation, effect)) coverage.checkEffect(transition, effect.name);
  }
}
