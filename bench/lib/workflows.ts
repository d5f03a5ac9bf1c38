/** Reading the workflows a benchmark drove: idle, processed counts, history lengths, task latencies. */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { stateQuery, type MachineView } from '../../contracts/machine-api';
import { progress } from './report';

/** Runs `fn` over `items`, `concurrency` at a time. */
export async function mapLimit<T, R>(items: T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!);
      }
    }),
  );
  return results;
}

/**
 * Waits until no workflow of `ids` has a workflow task or an activity pending, by describing them
 * (the server answers; the worker does no work for it, so its CPU time stays the workflows'). A
 * workflow not started yet is busy: webhooks are answered once in the inbox, before the dispatcher
 * starts their conversations.
 */
export async function waitIdle(bench: string, client: Client, ids: string[], timeoutMs = 30 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let busy = ids;
  while (busy.length) {
    if (Date.now() > deadline) throw new Error(`${busy.length} workflows still busy after ${timeoutMs} ms, e.g. ${busy[0]}`);
    const states = await mapLimit(busy, 20, async (id) => {
      try {
        const { raw } = await client.workflow.getHandle(id).describe();
        return raw.pendingWorkflowTask || (raw.pendingActivities?.length ?? 0) > 0;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return true;
        throw err;
      }
    });
    const still = busy.filter((_, i) => states[i]);
    if (still.length) {
      progress(bench, `waiting for ${still.length} of ${ids.length} workflows to finish their work`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    busy = still;
  }
}

/**
 * Until each conversation of `ids` has processed `count` events (a conversation not started yet has
 * none); what each showed when it had (a read of every conversation).
 */
export async function waitApplied(client: Client, ids: string[], count: number, timeoutMs = 30 * 60_000): Promise<Inspected[]> {
  const deadline = Date.now() + timeoutMs;
  const applied = new Map<string, Inspected>();
  for (let behind = ids; behind.length > 0;) {
    if (Date.now() > deadline) throw new Error(`${behind.length} conversations not applied after ${timeoutMs} ms`);
    // One read that fails (a query timing out on a loaded worker) leaves that conversation behind, not the pass.
    const seen = await mapLimit(behind, 20, (id) => inspect(client, [id]).catch(() => [] as Inspected[]));
    for (const s of seen.flat()) if (s.eventCount >= count) applied.set(s.id, s);
    behind = behind.filter((id) => !applied.has(id));
    if (behind.length > 0) await new Promise((r) => setTimeout(r, 100));
  }
  return ids.map((id) => applied.get(id)!);
}

export interface Inspected {
  id: string;
  eventCount: number;
  duplicateCount: number;
  historyLength: number;
}

/** Each workflow's processed and duplicate event counts (query `state`) and its current run's history length. */
export function inspect(client: Client, ids: string[]): Promise<Inspected[]> {
  return mapLimit(ids, 20, async (id) => {
    const handle = client.workflow.getHandle(id);
    const [view, description] = await Promise.all([
      handle.query(stateQuery) as Promise<Pick<MachineView, 'eventCount' | 'duplicateCount'>>,
      handle.describe(),
    ]);
    return { id, eventCount: view.eventCount, duplicateCount: view.duplicateCount, historyLength: description.historyLength };
  });
}

const ms = (t: temporal.api.history.v1.IHistoryEvent['eventTime']) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/**
 * Workflow task latencies of a history, ms: scheduled → completed (what a signal waits, queueing
 * included) and started → completed (the worker's own time on the task).
 */
export function workflowTaskLatencies(history: temporal.api.history.v1.IHistory): {
  scheduledToCompleted: number[];
  startedToCompleted: number[];
} {
  const at = new Map<string, number>();
  const scheduledToCompleted: number[] = [];
  const startedToCompleted: number[] = [];
  for (const e of history.events ?? []) {
    if (e.workflowTaskScheduledEventAttributes || e.workflowTaskStartedEventAttributes)
      at.set(String(e.eventId), ms(e.eventTime));
    const completed = e.workflowTaskCompletedEventAttributes;
    if (completed) {
      const scheduled = at.get(String(completed.scheduledEventId));
      const started = at.get(String(completed.startedEventId));
      if (scheduled !== undefined) scheduledToCompleted.push(ms(e.eventTime) - scheduled);
      if (started !== undefined) startedToCompleted.push(ms(e.eventTime) - started);
    }
  }
  return { scheduledToCompleted, startedToCompleted };
}

/** Activity tasks of a history, ms from scheduled to started: how long each waited to be picked up by a worker. */
export function activityScheduleToStart(history: temporal.api.history.v1.IHistory): number[] {
  const scheduled = new Map<string, number>();
  const waits: number[] = [];
  for (const e of history.events ?? []) {
    if (e.activityTaskScheduledEventAttributes) scheduled.set(String(e.eventId), ms(e.eventTime));
    const started = e.activityTaskStartedEventAttributes;
    const at = started ? scheduled.get(String(started.scheduledEventId)) : undefined;
    if (at !== undefined) waits.push(ms(e.eventTime) - at);
  }
  return waits;
}

/** Temporal actions (what a Temporal Cloud bill counts, roughly) in a set of histories. */
export interface Actions {
  workflowTasks: number;
  activities: number;
  signals: number;
  updates: number;
  timers: number;
  /** Largest history (events) and largest single payload (bytes, as stored) seen. */
  longestHistory: number;
  largestPayloadBytes: number;
}

export const noActions = (): Actions => ({
  workflowTasks: 0,
  activities: 0,
  signals: 0,
  updates: 0,
  timers: 0,
  longestHistory: 0,
  largestPayloadBytes: 0,
});

export const totalActions = (a: Actions) => a.workflowTasks + a.activities + a.signals + a.updates + a.timers;

/**
 * The actions in every run of these workflow ids whose events happened from `since` on (epoch ms),
 * counted from their histories.
 */
export async function countActions(client: Client, ids: string[], since: number): Promise<Actions> {
  const sum = noActions();
  await mapLimit(ids, 8, async (workflowId) => {
    for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      const events = history.events ?? [];
      sum.longestHistory = Math.max(sum.longestHistory, events.length);
      for (const e of events) {
        for (const p of e.workflowExecutionStartedEventAttributes?.input?.payloads ?? []) {
          sum.largestPayloadBytes = Math.max(sum.largestPayloadBytes, p.data?.length ?? 0);
        }
        if (ms(e.eventTime) < since) continue;
        if (e.workflowTaskCompletedEventAttributes) sum.workflowTasks++;
        else if (e.activityTaskScheduledEventAttributes) sum.activities++;
        else if (e.workflowExecutionSignaledEventAttributes) sum.signals++;
        else if (e.workflowExecutionUpdateAcceptedEventAttributes) sum.updates++;
        else if (e.timerStartedEventAttributes) sum.timers++;
      }
    }
  });
  return sum;
}
