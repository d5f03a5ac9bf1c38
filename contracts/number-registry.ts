/**
 * What an onboarding writes to the number registry (store/number-registry.ts) through its
 * `recordNumber` activity, whenever its sending state or token changes: the sender and the
 * conversations read a number's state there.
 */
export interface NumberRegistryEntry {
  phoneNumberId: string;
  onboardingWorkflowId: string;
  /** Absent in entries written before the registry kept them. */
  wabaId?: string;
  displayPhoneNumber?: string;
  canSend: boolean;
  reason?: string;
  remedy?: string;
  sealedToken?: string;
}

export interface NumberRegistryActivities {
  /** `mirroredAt`: the onboarding's clock when the entry changed; an older write never replaces a newer one. */
  recordNumber(entry: NumberRegistryEntry & { mirroredAt: number }): Promise<void>;
}
