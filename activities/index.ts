import type { Config } from '../config';
import { createLogger } from '../logger';
import { createOnboardingActivities } from './onboarding';

/** Every activity the worker runs, by name (the names machines use for actions and actors). */
export function createActivities(config: Config) {
  const log = createLogger(config, 'activities');
  return {
    ...createOnboardingActivities(config, log),
  };
}

export type Activities = ReturnType<typeof createActivities>;
