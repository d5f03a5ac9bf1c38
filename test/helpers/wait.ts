import type { WorkflowHandle } from '@temporalio/client';
import { stateQuery, type MachineView } from '../../workflows/machine-api';

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

/** Queries a machine workflow until its view satisfies `accept`. */
export function viewWhen<C = Record<string, unknown>>(
  handle: WorkflowHandle,
  accept: (view: MachineView<C>) => boolean,
): Promise<MachineView<C>> {
  return eventually(() => handle.query(stateQuery) as Promise<MachineView<C>>, accept);
}
