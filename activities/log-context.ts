import { Context } from '@temporalio/activity';
import { logContext, type LogContext } from '../logger';
import { META_ID } from '../contracts/ids';

type ActivityFunctions = Record<string, (...args: never[]) => Promise<unknown>>;

/**
 * Runs each activity inside its log context, so that every line it logs carries `workflowId`,
 * `activity` and, where the input or the workflow id names one, Meta's `phoneNumberId`.
 */
export function withLogContext<T extends ActivityFunctions>(activities: T): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, activity]) => [
      name,
      (...args: never[]) => logContext.run(activityLogContext(args[0]), () => activity(...args)),
    ]),
  ) as unknown as T;
}

function activityLogContext(input: unknown): LogContext {
  let info: Context['info'];
  try {
    info = Context.current().info;
  } catch {
    return {}; // called outside an activity (a test calling the function directly)
  }
  const workflowId = info.workflowExecution?.workflowId;
  const given = (input as { phoneNumberId?: unknown } | undefined)?.phoneNumberId;
  const phoneNumberId = typeof given === 'string' && META_ID.test(given) ? given : phoneNumberIdOf(workflowId);
  return { ...(workflowId ? { workflowId } : {}), activity: info.activityType, ...(phoneNumberId ? { phoneNumberId } : {}) };
}

/** `conversation:<phone_number_id>:<wa_id>` and `sender:<phone_number_id>` name the number. */
function phoneNumberIdOf(workflowId: string | undefined): string | undefined {
  return /^(?:conversation|sender):(\d{1,32})(?::|$)/.exec(workflowId ?? '')?.[1];
}
