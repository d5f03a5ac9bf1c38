/**
 * The load generator, a second process on loopback: runs `count` operations of one job with at
 * most `concurrency` in flight, and reports each operation's latency, the errors and progress.
 */
import { Client, Connection } from '@temporalio/client';
import { signWebhook } from '../../api/webhooks/signature';
import { loadConfig } from '../../config';
import { dataConverter } from '../../security/payload-codec';
import { routeChanges } from '../../api/webhooks/route-changes';
import { ANY_NUMBER } from '../../api/webhooks/number-check';
import { envelopeSchema } from '../../api/webhooks/schemas';
import { onboardToActive } from '../../test/helpers/onboard';
import { eventSignal, type MachineEvent } from '../../contracts/machine-api';
import { postRaw, retryingUnavailable, stackHttp } from './http';
import { operations, webhookBody, type TrafficSpec } from './traffic';

export type Job =
  /** Signed webhooks to the API; each must be answered 200 with every event delivered. */
  | { kind: 'webhooks'; url: string; appSecret: string; traffic: TrafficSpec }
  /** The same webhooks' Temporal calls made directly: what the API does after verifying and parsing. */
  | { kind: 'signalWithStart'; temporalAddress: string; taskQueue: string; workflowType: string; traffic: TrafficSpec }
  /**
   * Sends through the public send API, round-robin over numbers and customers; a 429 (the number's
   * queue full) is tried again after its Retry-After, as a backend would.
   */
  | {
      kind: 'apiSends';
      apiUrl: string;
      apiKey: string;
      count: number;
      phoneNumberIds: string[];
      waIds: string[];
      run: string;
      /** A 429 is counted and given up on, instead of tried again. */
      giveUpOnTooMany?: boolean;
    }
  /** Onboardings to Active through the API and the simulator. */
  | { kind: 'onboardings'; apiUrl: string; simulatorUrl: string; apiKey: string; phoneNumbers: string[] }
  /** Bare workflows of `activities` no-op activities, each run to completion. */
  | { kind: 'bareWorkflows'; temporalAddress: string; taskQueue: string; count: number; activities: number; run: string };

export interface LoadRequest {
  job: Job;
  concurrency: number;
}

export interface LoadResult {
  count: number;
  errors: number;
  /** 503 answers (Temporal beyond the API's deadline) tried again 1 s later, as Meta or a backend would. */
  retries: number;
  errorSamples: string[];
  durationMs: number;
  /** CPU time (user + system) of this load process during the run, µs. */
  cpuMicros: number;
  /** Per operation, ms, in completion order. */
  latencies: number[];
  /** 429 answers tried again (apiSends). */
  tooMany?: number;
}

let retries = 0;
const retried = () => void retries++;
/** 429 answers (the number's send queue full), each tried again a second later. */
let tooMany = 0;

async function temporalClient(address: string) {
  // The payload codec the stack's worker and API use (both read the same environment).
  return new Client({ connection: await Connection.connect({ address }), dataConverter: dataConverter(loadConfig()) });
}

/** The operation `i` of a job, and how many there are. */
async function prepare(job: Job): Promise<{ count: number; op: (i: number) => Promise<void>; close?: () => Promise<void> }> {
  switch (job.kind) {
    case 'webhooks':
      return {
        count: operations(job.traffic),
        async op(i) {
          const body = webhookBody(job.traffic, i);
          const headers = { 'x-hub-signature-256': signWebhook(body, job.appSecret) };
          // Meta redelivers what was not answered 200; the conversation drops a repeat by message id.
          const answer = await retryingUnavailable(() => postRaw(job.url, body, headers), retried);
          if (answer.status !== 200 || answer.body?.queued !== 1)
            throw new Error(`webhook answered ${answer.status}: ${JSON.stringify(answer.body)}`);
        },
      };
    case 'signalWithStart': {
      const client = await temporalClient(job.temporalAddress);
      return {
        count: operations(job.traffic),
        async op(i) {
          const { conversations } = routeChanges(
            envelopeSchema.parse(JSON.parse(webhookBody(job.traffic, i))),
            Date.now(),
            ANY_NUMBER,
          );
          for (const { workflowId, conversation, event } of conversations) {
            await client.workflow.signalWithStart(job.workflowType, {
              workflowId,
              taskQueue: job.taskQueue,
              args: [{ input: conversation }],
              signal: eventSignal,
              signalArgs: [event as MachineEvent],
            });
          }
        },
        close: () => client.connection.close(),
      };
    }
    case 'apiSends': {
      const message = { type: 'template', template: { name: 'order_update', language: 'en_US', category: 'utility' } };
      return {
        count: job.count,
        async op(i) {
          const phoneNumberId = job.phoneNumberIds[i % job.phoneNumberIds.length]!;
          const waId = job.waIds[Math.floor(i / job.phoneNumberIds.length) % job.waIds.length]!;
          const url = `${job.apiUrl}/numbers/${phoneNumberId}/conversations/${waId}/messages`;
          const body = JSON.stringify({ clientMessageId: `bench-${job.run}-${i}`, message });
          for (;;) {
            const answer = await retryingUnavailable(() => postRaw(url, body, { 'x-api-key': job.apiKey }), retried);
            if (answer.status === 202) return;
            if (answer.status !== 429) throw new Error(`send answered ${answer.status}: ${JSON.stringify(answer.body)}`);
            tooMany++;
            if (job.giveUpOnTooMany) return;
            await new Promise((r) => setTimeout(r, 1_000));
          }
        },
      };
    }
    case 'onboardings': {
      // Reading an onboarding is a query the worker answers: polled every 2 s, so that hundreds
      // waiting at once do not become the load.
      const http = stackHttp({ ...job, pollMs: 2_000, onRetry: retried });
      return { count: job.phoneNumbers.length, op: (i) => onboardToActive(http, job.phoneNumbers[i]!).then(() => undefined) };
    }
    case 'bareWorkflows': {
      const client = await temporalClient(job.temporalAddress);
      return {
        count: job.count,
        op: (i) =>
          client.workflow.execute('bareWorkflow', {
            workflowId: `bare:${job.run}:${i}`,
            taskQueue: job.taskQueue,
            args: [job.activities],
          }),
        close: () => client.connection.close(),
      };
    }
  }
}

async function run({ job, concurrency }: LoadRequest): Promise<LoadResult> {
  const { count, op, close } = await prepare(job);
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const ticker = setInterval(() => process.send!({ type: 'progress', done: latencies.length + errors, count }), 5_000);
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = performance.now();
        try {
          await op(i);
          latencies.push(performance.now() - t0);
        } catch (err) {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(`operation ${i}: ${(err as Error).message}`);
        }
      }
    }),
  );
  const durationMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(ticker);
  await close?.();
  return { count, errors, retries, errorSamples, durationMs, cpuMicros: cpu.user + cpu.system, latencies, tooMany };
}

// The benchmark that started this process is gone: stop loading its (stopped) stack.
process.once('disconnect', () => process.exit(1));

process.once('message', (request: LoadRequest) => {
  run(request).then(
    (result) => process.send!({ type: 'result', result }, () => process.exit(0)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
});
