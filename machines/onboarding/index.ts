/**
 * The onboarding machine's package: the statechart (./machine) and, beside it, what it reacts to
 * (./events), remembers (./context), asks the world to do and tells the backend (./effects; the
 * notices are built in ./notices), decides with (./rules), shows (./read-model), its stages (./stages), settings
 * (./settings) and the help article's remedies (./remedies). This file is its public surface.
 */
export { onboardingMachine, type OnboardingSnapshot } from './machine';
export type * from './context';
export type * from './effects';
export type * from './events';
export * from './remedies';
export * from './settings';
export * from './stages';
export * from './waits';
export { statusCardOf, type NumberRegistryEntry } from './read-model';
export { isAppVersionSupported, isOnCloudApiAndApp, MIN_APP_VERSION, sendingStateOf } from './rules';
export { onboardingDedupeKey } from './dedupe';
