/**
 * Search attributes of onboardings, upserted at each transition, so that Temporal visibility
 * (`temporal workflow list --query`, the Web UI, the API's WABA routing) finds them by business
 * facts. Registered on the dev server by `npm start`; on a production cluster with
 * `temporal operator search-attribute create --name <Name> --type <Type>` for each one below.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const WabaId = defineSearchAttributeKey('WabaId', SearchAttributeType.KEYWORD);
export const OnboardingPhoneNumber = defineSearchAttributeKey('OnboardingPhoneNumber', SearchAttributeType.KEYWORD);
/** Meta's phone_number_id: how the sender finds the onboarding (and its token) of a number. */
export const PhoneNumberId = defineSearchAttributeKey('PhoneNumberId', SearchAttributeType.KEYWORD);
export const OnboardingStage = defineSearchAttributeKey('OnboardingStage', SearchAttributeType.KEYWORD);
/** When the onboarding entered its current stage: with the stage's budget, whether it is stuck. */
export const OnboardingStageEnteredAt = defineSearchAttributeKey('OnboardingStageEnteredAt', SearchAttributeType.DATETIME);
export const OnboardingBlockedReason = defineSearchAttributeKey('OnboardingBlockedReason', SearchAttributeType.KEYWORD);
export const LinkingAttempts = defineSearchAttributeKey('LinkingAttempts', SearchAttributeType.INT);
/** Until when Meta accepts the contacts and history sync (24 h from FINISH): ops see the ones near it. */
export const OnboardingSyncDeadline = defineSearchAttributeKey('OnboardingSyncDeadline', SearchAttributeType.DATETIME);

export const onboardingSearchAttributes = [
  WabaId,
  OnboardingPhoneNumber,
  PhoneNumberId,
  OnboardingStage,
  OnboardingStageEnteredAt,
  OnboardingBlockedReason,
  LinkingAttempts,
  OnboardingSyncDeadline,
];

/** `--search-attribute Name=Type` arguments for `temporal server start-dev`. */
export function devServerSearchAttributeArgs(): string[] {
  const typeName: Record<string, string> = {
    KEYWORD: 'Keyword',
    INT: 'Int',
    DATETIME: 'Datetime',
    TEXT: 'Text',
    BOOL: 'Bool',
    DOUBLE: 'Double',
  };
  return onboardingSearchAttributes.flatMap((k) => ['--search-attribute', `${k.name}=${typeName[k.type]}`]);
}
