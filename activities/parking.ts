/**
 * Poison-proof effects. The conversation runs its effects one at a time, so an effect retried
 * forever would hold back every event behind it. A failure that retrying cannot fix (a constraint,
 * invalid data, a refusal marked non-retryable) is retried a few times, then the effect is parked
 * in the store with its error and the activity fails for good: the workflow goes on with the next
 * event. A different message under a known id is parked at once, as a conflict. Anything else
 * (the store or Temporal unreachable) is transient and retried with backoff until it works.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { effectRetries, effectsParked } from '../observability/metrics';
import { MessageConflictError, type MessageStore, type ParkReason } from '../store/message-store';

/** Attempts of an effect failing for a reason retrying cannot fix, before it is parked. */
export const PERMANENT_FAILURE_ATTEMPTS = 5;

/** The failure types an effect's activity fails with, as the ops inspection shows them. */
export const EFFECT_FAILURE = {
  /** Retried with backoff until it works. */
  transient: 'EffectUnavailable',
  /** Retried a few times, then parked. */
  permanent: 'EffectRejected',
  /** Parked: the workflow went on without it. */
  parked: 'EffectParked',
} as const;

// SQLSTATE classes no retry can fix: data exceptions (bad encoding, invalid JSON), integrity
// constraint violations, program limits exceeded (a value too large to index).
const PERMANENT_SQLSTATE_CLASSES = ['22', '23', '54'];

/** Why a failure is one retrying cannot fix, or undefined when it is transient. */
export function permanentFailure(err: unknown): ParkReason | undefined {
  if (err instanceof MessageConflictError) return 'conflict';
  if (err instanceof ApplicationFailure && err.nonRetryable) return 'failed';
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && PERMANENT_SQLSTATE_CLASSES.includes(code.slice(0, 2))) {
    return 'failed';
  }
  if ((err as { name?: unknown } | null)?.name === 'ZodError') return 'failed';
  return undefined;
}

type Effect = (params: never) => Promise<unknown>;

/** Each effect parked as above; the store keeps what was parked (GET /ops/parked). */
export function parkingEffects<T extends Record<string, Effect>>(effects: T, store: MessageStore, log: Logger): T {
  return Object.fromEntries(
    Object.entries(effects).map(([action, effect]) => [
      action,
      async (params: never) => {
        try {
          return await effect(params);
        } catch (err) {
          throw await classify(action, params, err);
        }
      },
    ]),
  ) as T;

  async function classify(action: string, params: unknown, err: unknown): Promise<ApplicationFailure> {
    const message = err instanceof Error ? err.message : String(err);
    const reason = permanentFailure(err);
    const info = Context.current().info;
    if (reason === undefined) {
      effectRetries.inc({ action, kind: 'transient' });
      return ApplicationFailure.create({ type: EFFECT_FAILURE.transient, message, cause: asError(err) });
    }
    if (reason === 'failed' && info.attempt < PERMANENT_FAILURE_ATTEMPTS) {
      effectRetries.inc({ action, kind: 'permanent' });
      return ApplicationFailure.create({ type: EFFECT_FAILURE.permanent, message, cause: asError(err) });
    }
    const workflowId = info.workflowExecution?.workflowId ?? '';
    // A store that cannot take the parked record fails this attempt; the next one parks it.
    await store.parkEffect({
      key: `${workflowId}/${info.workflowExecution?.runId ?? ''}/${info.activityId}`,
      workflowId,
      action,
      reason,
      error: message,
      attempts: info.attempt,
      params,
    });
    effectsParked.inc({ action, reason });
    log.warn({ action, reason, attempts: info.attempt, error: message }, 'effect parked: the conversation goes on without it');
    return ApplicationFailure.create({
      type: EFFECT_FAILURE.parked,
      message: `parked (${reason}) after ${info.attempt} attempt(s): ${message}`,
      nonRetryable: true,
    });
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
