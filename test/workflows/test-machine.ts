/** A small machine that exercises every feature of the durable interpreter. */
import { assign, cancel, fromPromise, raise, setup } from 'xstate';
import { runsAsActivity, type InvocationError } from '../../machines/interpreter-contract';

export const DAY_MS = 24 * 60 * 60 * 1000;
export const PONG_DELAY_MS = 60_000;

export interface TestInput {
  waitMs?: number;
  continueAsNewAfterEvents?: number;
}

export interface DoWorkInput {
  mode: 'ok' | 'fail' | 'slow';
}

export type TestEvent =
  | { type: 'start' }
  | { type: 'answer' }
  | { type: 'note'; id?: string }
  | { type: 'ping' }
  | { type: 'unping' }
  | { type: 'pong' }
  | { type: 'work'; mode: DoWorkInput['mode'] }
  | { type: 'abort' }
  | { type: 'finish' };

/**
 * `timerRemoved` is a deliberately non-deterministic change (waiting starts no timer) used to
 * prove that replaying an old history against it fails.
 */
export function buildTestMachine(variant: 'original' | 'timerRemoved' = 'original') {
  return setup({
    types: {
      context: {} as { waitMs: number; notes: number; pongs: number; output?: string; error?: InvocationError },
      events: {} as TestEvent,
      input: {} as TestInput,
    },
    actions: {
      record: (_, _params: { note: string }) => {},
    },
    actors: {
      doWork: fromPromise<string, DoWorkInput>(async () => runsAsActivity('doWork')),
    },
    delays: {
      waitLimit: ({ context }) => context.waitMs,
    },
  }).createMachine({
    id: 'test',
    initial: 'idle',
    context: ({ input }) => ({ waitMs: input.waitMs ?? DAY_MS, notes: 0, pongs: 0 }),
    states: {
      idle: { on: { start: 'waiting', work: 'working', finish: 'finished' } },
      waiting: {
        entry: { type: 'record', params: { note: 'waiting' } },
        after: variant === 'original' ? { waitLimit: 'expired' } : {},
        on: {
          answer: 'answered',
          note: { actions: assign({ notes: ({ context }) => context.notes + 1 }) },
          ping: { actions: raise({ type: 'pong' }, { delay: PONG_DELAY_MS, id: 'pong' }) },
          unping: { actions: cancel('pong') },
          pong: { actions: assign({ pongs: ({ context }) => context.pongs + 1 }) },
        },
      },
      expired: {
        entry: { type: 'record', params: { note: 'expired' } },
        on: { start: 'waiting' },
      },
      answered: { on: { start: 'waiting', finish: 'finished' } },
      working: {
        invoke: {
          id: 'job',
          src: 'doWork',
          input: ({ event }) => ({ mode: event.type === 'work' ? event.mode : 'ok' }),
          onDone: { target: 'worked', actions: assign({ output: ({ event }) => event.output }) },
          onError: { target: 'workFailed', actions: assign({ error: ({ event }) => event.error as InvocationError }) },
        },
        on: { abort: 'idle' },
      },
      worked: { on: { finish: 'finished' } },
      workFailed: { on: { finish: 'finished' } },
      finished: { type: 'final', entry: { type: 'record', params: { note: 'finished' } } },
    },
    output: ({ context }) => ({ notes: context.notes, pongs: context.pongs }),
  });
}

export const testMachine = buildTestMachine();
