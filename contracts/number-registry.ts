/**
 * The number registry's contract with the onboarding workflow: the entry it writes (declared once,
 * with the onboarding's read models) through its `recordNumber` activity whenever it changes.
 */
import type { NumberRegistryEntry } from '../machines/onboarding';

export type { NumberRegistryEntry };

/** The onboarding's activity that writes its number's entry (store/number-registry.ts). */
export interface NumberRegistryActivities {
  /** `mirroredAt`: the onboarding's clock when the entry changed; an older write never replaces a newer one. */
  recordNumber(entry: NumberRegistryEntry & { mirroredAt: number }): Promise<void>;
}
