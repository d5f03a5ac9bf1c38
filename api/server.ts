import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { openMessageStore } from '../store';
import type { MessageStore } from '../store/message-store';
import { createTemporalClient } from '../client';
import { loadConfig, type Config } from '../config';
import { createLogger } from '../logger';
import { createApp } from './app';
import { startWebhookDispatcher } from './webhooks/dispatcher';

/** How long a drain waits for in-flight requests before it drops what is left. */
const DRAIN_DEADLINE_MS = 25_000;
/** A client that has not sent its headers in this long is cut off (408), so slow clients cannot hold sockets. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** A request whose body has not all arrived in this long is cut off (408): 3 MB in 30 s is 100 kB/s. */
export const REQUEST_TIMEOUT_MS = 30_000;

export interface RunningApi {
  url: string;
  server: Server;
  /**
   * Drains: stops accepting connections, answers requests that still arrive on open connections
   * 503 `shutting_down` (closing them), lets in-flight requests finish, then resolves.
   */
  close(): Promise<void>;
}

export function startApi(config: Config, client: Client, store: MessageStore, log: Logger): Promise<RunningApi> {
  // The webhook inbox's dispatcher runs beside the API in every API process (they share the inbox).
  const dispatcher = startWebhookDispatcher({ client, store, taskQueue: config.TEMPORAL_TASK_QUEUE, log });
  const app = createApp({ config, client, store, log, dispatcher });
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (draining) {
      res.writeHead(503, { 'content-type': 'application/json', connection: 'close', 'retry-after': '1' });
      res.end(JSON.stringify({ error: { code: 'shutting_down', message: 'the API is shutting down; retry' } }));
      return;
    }
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    app(req, res);
  });
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  const close = () =>
    new Promise<void>((done) => {
      draining = true;
      // Keep-alive connections close once their in-flight answer is sent.
      for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
      const deadline = setTimeout(() => server.closeAllConnections(), DRAIN_DEADLINE_MS);
      server.close(() => {
        clearTimeout(deadline);
        // What was kept and not yet dispatched stays in the inbox for the next dispatcher.
        void dispatcher.stop().then(done);
      });
      server.closeIdleConnections();
    });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => {
      void dispatcher.stop();
      reject(err);
    });
    server.listen(config.API_PORT, config.API_HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : config.API_PORT;
      resolve({ url: `http://${config.API_HOST}:${port}`, server, close });
    });
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
    const stop = async (signal: string) => {
      const drained = api.close();
      log.info({ signal }, 'draining'); // logged once the port no longer accepts
      await drained;
      await client.connection.close();
      await store.close();
      log.info('API stopped');
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  })().catch((err) => {
    log.error({ err }, 'API failed to start');
    process.exit(1);
  });
}
