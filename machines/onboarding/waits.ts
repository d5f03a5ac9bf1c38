/**
 * What an onboarding waits for in each state, and who must act: the person (at the phone and in
 * Meta's signup screens), the business's backend, Meta, or ops. One table keyed by state: every
 * stage (the compiler holds it complete) and, where a stage waits on different parties in its
 * sub-states, the sub-state's id (test/unit/onboarding-waits.test.ts holds those to the machine).
 * Pure data and lookups: no I/O.
 */
import { BLOCKED_REASONS, type BlockedReason, type RetryPolicy } from './remedies';
import type { Stage } from './stages';

export const ACTORS = ['person', 'business', 'meta', 'ops', 'nobody'] as const;
export type Actor = (typeof ACTORS)[number];

export interface Wait {
  actor: Actor;
  waitsFor: string;
}

export const WAITS = {
  prerequisites: {
    actor: 'business',
    waitsFor: "the backend's prerequisites report (app version, business portfolio, number connected elsewhere)",
  },
  signup: { actor: 'person', waitsFor: "the person to finish Meta's Embedded Signup, and the backend to forward its result" },
  'signup.exchangingCode': { actor: 'meta', waitsFor: 'Meta to exchange the signup code for the business token' },
  'signup.lookingUpNumber': { actor: 'meta', waitsFor: "Meta's answer on the number's WhatsApp Business account" },
  linking: {
    actor: 'person',
    waitsFor: 'the person to scan the QR code (or enter the code) in WhatsApp Business › Settings › Linked devices',
  },
  registration: { actor: 'meta', waitsFor: 'Meta to show the number on both the Cloud API and the app' },
  'registration.subscribingApp': { actor: 'meta', waitsFor: "Meta to subscribe coexist's app to the account's webhooks" },
  sync: { actor: 'meta', waitsFor: 'Meta to accept the contacts and chat history sync requests' },
  payment: { actor: 'meta', waitsFor: "Meta's answer on the account's payment method" },
  'payment.paymentMethod.awaitingPaymentMethod': {
    actor: 'person',
    waitsFor:
      "the person to add a payment method to the Meta account (re-checked on the machine's schedule, or at once by ops' recheck)",
  },
  active: { actor: 'nobody', waitsFor: 'nothing: the number is onboarded' },
  blocked: { actor: 'person', waitsFor: 'the person to act on the remedy, then ops to retry' },
  cancelled: { actor: 'nobody', waitsFor: 'nothing: the onboarding was cancelled' },
  offboarded: { actor: 'person', waitsFor: 'the person to reconnect the number (or ops to retry with a new signup)' },
} as const satisfies Record<Stage, Wait> & Record<string, Wait>;

/** A blocked onboarding waits on whoever its reason's retry policy names. */
export const BLOCKED_WAITS = {
  same_stage: { actor: 'person', waitsFor: 'the person to act on the remedy, then ops to retry' },
  signup: { actor: 'person', waitsFor: 'the person to sign up again (ops retry starts a new Embedded Signup)' },
  none: { actor: 'ops', waitsFor: 'ops: the person cannot fix this from here; reset to an earlier stage or cancel' },
} as const satisfies Record<RetryPolicy, Wait>;

/**
 * What the onboarding in `state` (leaf paths as `linking.attempt` or several comma-separated) waits
 * for. A blocked reason (blocked, or registration that could not be confirmed) decides by its policy.
 */
export function waitOf(state: string, blockedReason?: string | null): Wait {
  if (blockedReason && blockedReason in BLOCKED_REASONS) {
    return BLOCKED_WAITS[BLOCKED_REASONS[blockedReason as BlockedReason].retry];
  }
  const table: Record<string, Wait> = WAITS;
  let best: string | undefined;
  for (const leaf of state.split(',')) {
    for (const key of Object.keys(table)) {
      if ((leaf === key || leaf.startsWith(`${key}.`)) && key.length > (best?.length ?? 0)) best = key;
    }
  }
  return best ? table[best]! : { actor: 'ops', waitsFor: `a state this table does not know: ${state}` };
}
