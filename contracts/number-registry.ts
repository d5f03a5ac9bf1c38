import type { NumberRegistryEntry } from '../machines/onboarding';

export type { NumberRegistryEntry };

/** The onboarding's activity that writes its number's entry (store/number-registry.ts). */
export interface NumberRegistryActivities {
  /** `mirroredAt`: the onboarding's clock when the entry changed; an older write never replaces a newer one. */
  recordNumber(entry: NumberRegistryEntry & { mirroredAt: number }): Promise<void>;
}
