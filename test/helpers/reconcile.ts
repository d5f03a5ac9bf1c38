/**
 * Count reconciliation between what the simulator sent as Meta and what coexist's read API shows.
 */
type Api = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

/** Every message of a conversation, through the read API's pages. */
export async function recordedMessages(
  api: Api,
  phoneNumberId: string,
  waId: string,
): Promise<{ id: string; direction: string }[]> {
  const all: { id: string; direction: string }[] = [];
  let cursor: string | undefined;
  do {
    const page = await api(
      'GET',
      `/numbers/${phoneNumberId}/conversations/${waId}/messages?order=asc&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    if (page.status === 404) return all;
    if (page.status !== 200) throw new Error(`messages of ${waId}: ${page.status} ${JSON.stringify(page.body)}`);
    all.push(...page.body.messages);
    cursor = page.body.nextCursor;
  } while (cursor);
  return all;
}

export interface Reconciliation {
  sent: number;
  recorded: number;
  /** Recorded more than once. */
  duplicated: number;
  /** Sent, not recorded. */
  missing: number;
  /** Recorded, never sent. */
  unexpected: number;
}

/** Sent wamids per customer against the inbound messages the read API shows. */
export async function reconcile(api: Api, phoneNumberId: string, sentByCustomer: Map<string, string[]>): Promise<Reconciliation> {
  const r: Reconciliation = { sent: 0, recorded: 0, duplicated: 0, missing: 0, unexpected: 0 };
  for (const [waId, sent] of sentByCustomer) {
    const ids = (await recordedMessages(api, phoneNumberId, waId)).filter((m) => m.direction === 'inbound').map((m) => m.id);
    const recorded = new Set(ids);
    const expected = new Set(sent);
    r.sent += expected.size;
    r.recorded += ids.length;
    r.duplicated += ids.length - recorded.size;
    r.missing += [...expected].filter((id) => !recorded.has(id)).length;
    r.unexpected += [...recorded].filter((id) => !expected.has(id)).length;
  }
  return r;
}
