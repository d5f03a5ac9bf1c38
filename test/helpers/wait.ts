import type { WorkflowHandle } from '@temporalio/client';
import { stateQuery, type MachineView } from '../../contracts/machine-api';

/** Polls a condition (real time) until it holds; fails with the last value seen. */
export async function eventually<T>(
  read: () => Promise<T> | T,
  accept: (value: T) => boolean,
  { timeoutMs = 30_000, intervalMs = 50 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (accept(last)) return last;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Queries a machine workflow until its view satisfies `accept`. Each query has its own deadline:
 * on a loaded machine one can stall (a worker busy with the run's task), and the next one asks again.
 */
export async function viewWhen<C = Record<string, unknown>>(
  handle: WorkflowHandle,
  accept: (view: MachineView<C>) => boolean,
): Promise<MachineView<C>> {
  const query = () =>
    handle.client.connection
      .withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(stateQuery) as Promise<MachineView<C>>)
      .catch((err: Error) => ({ stalled: err.message }));
  const view = await eventually(query, (v) => !('stalled' in v) && accept(v));
  return view as MachineView<C>;
}

const QUERY_DEADLINE_MS = 10_000;
