import type { Logger } from 'pino';
import { Gauge, Registry } from 'prom-client';
import type { MessageStore } from '../../store/message-store';

/**
 * The webhook inbox, read from the store on scrape (every API process sees the same shared inbox):
 * items kept and not yet taken by their workflows, and how long the oldest has waited (the
 * dispatch lag; the histogram coexist_webhook_dispatch_lag_seconds has it per item taken).
 */
export function inboxGauges(store: MessageStore, log: Logger) {
  const registry = new Registry();
  const pending = new Gauge({
    name: 'coexist_webhook_inbox_pending',
    help: 'Webhook items kept in the inbox (answered 200) and not yet taken by their workflows',
    registers: [registry],
  });
  const oldest = new Gauge({
    name: 'coexist_webhook_inbox_oldest_pending_seconds',
    help: 'Age of the oldest webhook item not yet taken by its workflow (0 when none): the dispatch lag',
    registers: [registry],
  });
  return {
    registry,
    async refresh() {
      try {
        const depth = await store.inboxDepth();
        pending.set(depth.pending);
        oldest.set(depth.oldestPendingSeconds);
      } catch (err) {
        // The store unreachable: the last values read stay, rather than the whole scrape failing.
        log.warn({ err }, 'webhook inbox depth not read');
      }
    },
  };
}
