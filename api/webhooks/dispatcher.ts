/**
 * The inbox's dispatcher: claims pending items (a lease, so that every API process can run one),
 * hands each to its workflow and marks it done. A conversation's items go in the order Meta listed
 * them; conversations and onboardings side by side, at most DISPATCH_CONCURRENCY at once. An item
 * Temporal could not take stays pending and is tried again with backoff; one no workflow takes
 * goes to the quarantine. Workflows drop a repeated event (their dedupe keys), so an item handed
 * over twice (its dispatcher died before marking it) is still applied once. Quarantine entries
 * whose number was registered since they were kept are replayed here too (api/webhooks/replay.ts).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { META_ID } from '../../contracts/ids';
import { eventSignal, type MachineEvent } from '../../contracts/machine-api';
import { webhookDispatchLag } from '../../observability/metrics';
import type { ClaimedItem } from '../../store/inbox';
import type { MessageStore } from '../../store/message-store';
import type { InboxItem } from './inbox-items';
import { replayQuarantined } from './replay';

/** Items claimed at once. */
const BATCH = 500;
/** Quarantine entries replayed in one pass, when their numbers are registered. */
const REPLAY_BATCH = 50;
/** Workflows signalled at once. */
const DISPATCH_CONCURRENCY = 32;
/** How long a claim holds its items; past it (its dispatcher died) they are claimed again. */
const LEASE_MS = 60_000;
/** A long run of one workflow's items is marked done this many at a time. */
const COMPLETE_EVERY = 50;
/** One hand-over's bound, so that an unreachable Temporal fails it instead of hanging the batch. */
const SIGNAL_DEADLINE_MS = 10_000;
/** How often an idle dispatcher looks for items kept by another process (its own wake it at once). */
const IDLE_POLL_MS = 500;
const MAX_BACKOFF_MS = 5_000;
/**
 * How long a dispatched delivery (its bytes and item keys) is kept: Meta redelivers for up to 7
 * days, and a redelivery must still find its keys. Quarantined deliveries are kept until replayed.
 */
export const INBOX_RETENTION_MS = 8 * 24 * 60 * 60 * 1000;
/** How often a dispatcher prunes, and how many deliveries at most each time. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;
const PRUNE_BATCH = 1_000;

export interface WebhookDispatcher {
  /** Items were kept: look now. */
  wake(): void;
  stop(): Promise<void>;
}

export function startWebhookDispatcher({
  client,
  store,
  taskQueue,
  log,
}: {
  client: Client;
  store: MessageStore;
  taskQueue: string;
  log: Logger;
}): WebhookDispatcher {
  let stopped = false;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  const sleep = (ms: number) =>
    new Promise<void>((done) => {
      if (woken || stopped) return done();
      const timer = setTimeout(finish, ms);
      function finish() {
        clearTimeout(timer);
        wakeUp = undefined;
        done();
      }
      wakeUp = finish;
    });

  /** Hands one item over; the classification when no workflow takes it. */
  async function handOver(workflowId: string, item: InboxItem): Promise<string | undefined> {
    const event = item.event as MachineEvent;
    if (item.kind === 'conversation') {
      await client.workflow.signalWithStart('conversationWorkflow', {
        workflowId,
        taskQueue,
        args: [{ input: item.conversation }],
        signal: eventSignal,
        signalArgs: [event],
      });
      return undefined;
    }
    const targets = item.kind === 'waba' ? await runningOnboardingsOfWaba(client, item.wabaId) : [workflowId];
    if (targets.length === 0) return `account_update:no_onboarding_for_waba:${item.kind === 'waba' ? item.wabaId : ''}`;
    let taken = 0;
    for (const target of targets) {
      try {
        await client.workflow.getHandle(target).signal(eventSignal, event);
        taken++;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    }
    return taken > 0 ? undefined : `no_workflow:${workflowId}`;
  }

  /**
   * One workflow's items, in order. The first that Temporal could not take stops the batch: it
   * and everything not yet handed over wait for a retry (Temporal is likely down for all of them).
   */
  async function dispatchGroup(items: ClaimedItem[], batch: BatchState): Promise<void> {
    const done: ClaimedItem[] = [];
    try {
      await handOverGroup(items, batch, done);
    } finally {
      await complete(done.splice(0));
    }
  }

  /** Marked done as a workflow's items are taken, not at the batch's end, so that no lease runs out on taken items. */
  async function complete(done: ClaimedItem[]): Promise<void> {
    await store.completeInboxItems(done.map((d) => d.seq));
    const now = Date.now();
    for (const d of done) webhookDispatchLag.observe(Math.max(0, now - d.receivedAt) / 1000);
  }

  async function handOverGroup(items: ClaimedItem[], batch: BatchState, done: ClaimedItem[]): Promise<void> {
    for (let i = 0; i < items.length; i++) {
      const claimed = items[i]!;
      if (batch.failure) {
        batch.waiting.push(...items.slice(i));
        return;
      }
      try {
        const unattached = await client.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () =>
          handOver(claimed.workflowId, claimed.item as InboxItem),
        );
        if (unattached) {
          await store.unattachInboxItem(claimed.seq, unattached);
          log.info({ classification: unattached }, 'a webhook item no workflow takes: quarantined');
        } else if (done.push(claimed) >= COMPLETE_EVERY) await complete(done.splice(0));
      } catch (err) {
        batch.failure ??= err instanceof Error ? err.message : String(err);
        batch.waiting.push(...items.slice(i));
        return;
      }
    }
  }

  async function dispatchBatch(claimed: ClaimedItem[]): Promise<void> {
    const groups = [...groupBy(claimed, (c) => c.workflowId).values()];
    const batch: BatchState = { waiting: [] };
    let next = 0;
    const lane = async () => {
      while (next < groups.length) await dispatchGroup(groups[next++]!, batch);
    };
    await Promise.all(Array.from({ length: Math.min(DISPATCH_CONCURRENCY, groups.length) }, lane));
    if (batch.failure !== undefined) {
      const attempts = Math.max(...batch.waiting.map((w) => w.attempts));
      const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(attempts, 10));
      await store.retryInboxItems(
        batch.waiting.map((w) => w.seq),
        delay,
        batch.failure,
      );
      log.warn(
        { err: batch.failure, items: batch.waiting.length, retryInMs: delay },
        'webhook items not handed over yet; kept for a retry',
      );
    }
  }

  /**
   * Quarantine entries due for a replay (their number was registered since): replayed as an
   * operator's replay is, their items queued for this pass. One that fails stays leased and is
   * claimed again once its lease ends.
   */
  async function replayDue(): Promise<void> {
    for (const id of await store.claimDueReplays(REPLAY_BATCH, LEASE_MS)) {
      await replayQuarantined(store, id).then(
        (replayed) => log.info({ id, queued: replayed?.queued }, 'quarantined webhook replayed: its number is registered now'),
        (err: unknown) => log.warn({ err, id }, 'quarantined webhook not replayed yet; again when its lease ends'),
      );
    }
  }

  let prunedAt = 0;
  const running = (async () => {
    while (!stopped) {
      woken = false;
      if (Date.now() - prunedAt > PRUNE_EVERY_MS) {
        prunedAt = Date.now();
        await store
          .pruneInbox(INBOX_RETENTION_MS, PRUNE_BATCH)
          .then((pruned) => pruned > 0 && log.info({ pruned }, 'dispatched webhook deliveries past retention pruned'))
          .catch((err: unknown) => log.warn({ err }, 'webhook inbox not pruned; next time'));
      }
      const claimed = await (async () => {
        await replayDue();
        const items = await store.claimInboxItems(BATCH, LEASE_MS);
        if (items.length > 0) await dispatchBatch(items);
        return items.length;
      })().catch((err: unknown) => {
        // The store itself failed (unreachable): the leases bring the items back.
        log.error({ err }, 'webhook dispatch failed; retrying');
        return undefined;
      });
      if (claimed === undefined) await sleep(MAX_BACKOFF_MS);
      else if (claimed < BATCH) await sleep(IDLE_POLL_MS);
    }
  })();

  return {
    wake() {
      woken = true;
      wakeUp?.();
    },
    async stop() {
      stopped = true;
      wakeUp?.();
      await running;
    },
  };
}

interface BatchState {
  /** Not handed over, for a retry. */
  waiting: ClaimedItem[];
  /** Why a hand-over failed; once set, no more are tried in this batch. */
  failure?: string;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

/** The live onboardings of a WABA, from Temporal visibility (search attribute WabaId). */
async function runningOnboardingsOfWaba(client: Client, wabaId: string): Promise<string[]> {
  if (!META_ID.test(wabaId)) return [];
  const ids: string[] = [];
  for await (const execution of client.workflow.list({ query: `WabaId = '${wabaId}' AND ExecutionStatus = 'Running'` })) {
    ids.push(execution.workflowId);
  }
  return ids;
}
