import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { createLogger } from '../logger';
import { createConversationActivities, type CredentialsLookup } from './conversations';
import { numberStateLookup, onboardingByVisibility } from './number-state';
import { withLogContext } from './log-context';
import { createNumberRegistryActivities } from './number-registry';
import { createOnboardingActivities } from './onboarding';
import { createTemplateActivities } from './templates';
import type { MessageStore } from '../store/message-store';

export interface ActivityDeps {
  /** For activities that start or signal workflows (the sender queue, token lookup). */
  client: Client;
  store: MessageStore;
  /** Where a number's onboarding and sealed token are found (default: Temporal visibility). */
  credentials?: CredentialsLookup;
  /**
   * TEST HARNESS ONLY: sends ignore the sender's pacing (`notBefore`), so that a test can show the
   * rate assertions fail without it. Never set by the worker (worker.ts), nor by any configuration.
   */
  testOnlyUnpacedSends?: boolean;
}

/**
 * Every activity the worker runs, by name (the names machines use for actions and actors); each
 * logs with its workflow id and phone number id (./log-context).
 */
export function createActivities(config: Config, { client, store, credentials, testOnlyUnpacedSends }: ActivityDeps) {
  const log = createLogger(config, 'activities');
  const lookup = credentials ?? onboardingByVisibility(client);
  return withLogContext({
    ...createOnboardingActivities(config, log),
    ...createConversationActivities({
      config,
      client,
      store,
      log,
      credentials: lookup,
      ...(testOnlyUnpacedSends ? { testOnlyUnpacedSends } : {}),
    }),
    ...createTemplateActivities(config, store, numberStateLookup(store, lookup)),
    ...createNumberRegistryActivities({ config, store, client }),
  });
}

export type Activities = ReturnType<typeof createActivities>;
