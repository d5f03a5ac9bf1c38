import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { openMessageStore } from '../activities/store';
import type { MessageStore } from '../activities/store/message-store';
import { createTemporalClient } from '../client';
import { loadConfig, type Config } from '../config';
import { createLogger } from '../logger';
import { createApp } from './app';

export interface RunningApi {
  url: string;
  server: Server;
  /** Stops accepting connections and waits for in-flight requests. */
  close(): Promise<void>;
}

export function startApi(config: Config, client: Client, store: MessageStore, log: Logger): Promise<RunningApi> {
  const app = createApp({ config, client, store, log });
  return new Promise((resolve, reject) => {
    const server = app.listen(config.API_PORT, config.API_HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : config.API_PORT;
      resolve({
        url: `http://${config.API_HOST}:${port}`,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
    server.once('error', reject);
  });
}

if (require.main === module) {
  const config = loadConfig();
  const log = createLogger(config, 'api');
  (async () => {
    const client = await createTemporalClient(config);
    const store = await openMessageStore(config);
    const api = await startApi(config, client, store, log);
    log.info({ url: api.url }, 'API listening');
    const stop = async () => {
      await api.close();
      await client.connection.close();
      await store.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  })().catch((err) => {
    log.error({ err }, 'API failed to start');
    process.exit(1);
  });
}
