import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { MessageStore } from '../store/message-store';
import type { Config } from '../config';

/** What the API's routes are given: its own module, so that the routes and the app that mounts them need not import each other. */
export interface ApiDeps {
  config: Config;
  client: Client;
  log: Logger;
  store: MessageStore;
  /** The webhook inbox's dispatcher in this process, woken when a delivery is kept (absent: it polls). */
  dispatcher?: { wake(): void };
}
