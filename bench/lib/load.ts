import { join } from 'node:path';
import type { LoadRequest, LoadResult } from './load-process';
import { progress } from './report';
import { forkTsx, nextMessage } from './stack';

/** Runs a job in a fresh load-generator process and waits for its result, printing progress. */
export async function runLoad(bench: string, label: string, request: LoadRequest): Promise<LoadResult> {
  const child = forkTsx(join(__dirname, 'load-process.ts'));
  child.on('message', (m: { type: string; done?: number; count?: number }) => {
    if (m.type === 'progress') progress(bench, `${label}: ${m.done}/${m.count}`);
  });
  const result = nextMessage<{ result: LoadResult }>(child, 'result');
  child.send(request);
  return (await result).result;
}

/** Operations per second of a load run. */
export const throughput = (r: LoadResult) => (r.latencies.length / r.durationMs) * 1000;
