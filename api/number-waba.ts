import type { Client } from '@temporalio/client';
import { META_ID } from '../contracts/ids';
import { PhoneNumberId, WabaId } from '../contracts/search-attributes';

/**
 * The WABA a phone number id belongs to, from the search attributes of the onboarding that holds
 * it (Temporal visibility); undefined when no running onboarding does. A number never changes
 * WABA, so an answer is kept for a while.
 */
export function numberWabaLookup(client: Client, ttlMs = 10 * 60_000) {
  const known = new Map<string, { wabaId: string; at: number }>();
  return async (phoneNumberId: string): Promise<string | undefined> => {
    const hit = known.get(phoneNumberId);
    if (hit && Date.now() - hit.at < ttlMs) return hit.wabaId;
    if (!META_ID.test(phoneNumberId)) return undefined;
    for await (const execution of client.workflow.list({
      query: `${PhoneNumberId.name} = '${phoneNumberId}' AND ExecutionStatus = 'Running'`,
    })) {
      const wabaId = execution.typedSearchAttributes.get(WabaId);
      if (!wabaId) continue;
      if (known.size > 10_000) known.clear();
      known.set(phoneNumberId, { wabaId, at: Date.now() });
      return wabaId;
    }
    return undefined;
  };
}

export type NumberWabaLookup = ReturnType<typeof numberWabaLookup>;
