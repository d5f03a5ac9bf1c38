/**
 * Reads a signed delivery leniently: each entry and change is taken on its own, and what cannot be
 * taken is classified (and kept with the delivery), never a reason to refuse the body. Only an
 * `object` other than Meta's WhatsApp one sets the whole delivery aside.
 */
import { ApiError } from '../http/errors';
import { assertSafeJson } from '../http/json-body';
import { isRecord } from './salvage';
import type { Envelope } from './schemas';

export const WHATSAPP_OBJECT = 'whatsapp_business_account';

/** A field name or an entry id we can name in a classification and store (no NUL, no control characters). */
const PRINTABLE = /^[\x21-\x7e]{1,100}$/;

type Change = Envelope['entry'][number]['changes'][number];

/** The deliverable part of `json` and what was set aside, classified. */
export function readEnvelope(json: unknown): { envelope: Envelope; unrouted: string[] } {
  const unrouted: string[] = [];
  const envelope: Envelope = { object: WHATSAPP_OBJECT, entry: [] };
  if (!isRecord(json)) return { envelope, unrouted: ['envelope:not_an_object'] };
  if (json.object !== undefined && json.object !== WHATSAPP_OBJECT) {
    return { envelope, unrouted: [`object:${label(json.object)}`] };
  }
  // The App Dashboard's test button sends a bare change, `{ field, value }`, with neither object nor entry.
  const entries = Array.isArray(json.entry)
    ? json.entry
    : json.entry === undefined && 'value' in json
      ? [{ changes: [json] }]
      : undefined;
  if (!entries) return { envelope, unrouted: ['envelope:no_entry'] };
  for (const entry of entries as unknown[]) {
    if (!isRecord(entry)) {
      unrouted.push('entry:malformed');
      continue;
    }
    const changes = Array.isArray(entry.changes) ? entry.changes : isRecord(entry.changes) ? [entry.changes] : [];
    const taken: Change[] = [];
    for (const change of changes as unknown[]) {
      // `field` beside the change (on the entry or the envelope) is how some of Meta's samples are printed.
      const field = isRecord(change) ? [change.field, entry.field, json.field].find((f) => typeof f === 'string') : undefined;
      if (!isRecord(change) || typeof field !== 'string' || !PRINTABLE.test(field)) {
        unrouted.push('change:malformed');
        continue;
      }
      const unsafe = unsafeReason(change.value);
      if (unsafe) {
        unrouted.push(`${label(field)}:${unsafe}`);
        continue;
      }
      taken.push({ field, value: change.value });
    }
    const time = seconds(entry.time);
    envelope.entry.push({
      id: (typeof entry.id === 'string' && PRINTABLE.test(entry.id)) || typeof entry.id === 'number' ? String(entry.id) : '',
      ...(time !== undefined ? { time } : {}),
      changes: taken,
    });
  }
  return { envelope, unrouted };
}

/** Unix seconds as Meta writes them, a number or a string of digits. */
function seconds(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,12}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Why a change cannot go further (assertSafeJson: NUL characters, `__proto__` keys, nesting), or undefined. */
function unsafeReason(value: unknown): string | undefined {
  try {
    assertSafeJson(value);
    return undefined;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return /NUL/.test(err.message) ? 'nul_character' : /__proto__/.test(err.message) ? 'proto_key' : 'too_deep';
  }
}

/** A value as a classification label: Meta's field names are lower-case words; anything else is `other`. */
function label(value: unknown): string {
  return typeof value === 'string' && /^[a-z0-9_]{1,64}$/.test(value) ? value : 'other';
}
