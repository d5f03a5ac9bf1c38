/**
 * The number registry as webhook routing asks it. A change that names a business number
 * (`metadata.phone_number_id`: messages, statuses, echoes, history, app state sync) is applied only
 * when an onboarding registered that number under the entry's WABA (`entry[].id`); otherwise it is
 * quarantined, `unknown_number:<id>` (Meta's dashboard test sample, or a number whose onboarding has
 * not registered it yet: replayed once it does) or `foreign_number:<id>` (registered under another
 * WABA, or a bare change that names none: nothing is written to that number).
 */
import { META_ID } from '../../contracts/ids';
import { numberRefusal } from '../../store/inbox';
import type { NumberRegistry } from '../../store/number-registry';
import { isRecord } from './salvage';
import type { Envelope } from './schemas';

/** Why a change for `phoneNumberId` under the WABA `wabaId` is not applied (its classification), or undefined. */
export type NumberCheck = (phoneNumberId: string, wabaId: string) => string | undefined;

/** For routing without a registry (the scenarios' in-process machines, the baseline of the benchmarks). */
export const ANY_NUMBER: NumberCheck = () => undefined;

/** The registry's word on every number the envelope names, asked at once. */
export async function numberCheck(registry: Pick<NumberRegistry, 'wabasOf'>, envelope: Envelope): Promise<NumberCheck> {
  const named = new Set<string>();
  for (const entry of envelope.entry) {
    for (const change of entry.changes) {
      const id = isRecord(change.value) && isRecord(change.value.metadata) ? change.value.metadata.phone_number_id : undefined;
      if (typeof id === 'string' && META_ID.test(id)) named.add(id);
    }
  }
  const wabas = await registry.wabasOf([...named]);
  return (phoneNumberId, wabaId) => {
    if (!wabas.has(phoneNumberId)) return numberRefusal('unknown_number', phoneNumberId);
    const registered = wabas.get(phoneNumberId);
    // An entry written before the registry kept WABAs is taken at its word until its onboarding writes it again.
    return registered !== null && registered !== wabaId ? numberRefusal('foreign_number', phoneNumberId) : undefined;
  };
}
