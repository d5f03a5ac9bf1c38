/**
 * The flood's second process: signed `messages` webhooks, some repeated byte for byte as Meta
 * redelivers, shuffled, POSTed to the API at a fixed concurrency over loopback: mostly one message
 * each, plus one delivery of 1,000 messages, deliveries for numbers no onboarding registered, and
 * deliveries with a malformed message beside a valid one. A 503 is redelivered after a pause, like
 * Meta. Prints progress lines and, last, a JSON summary.
 *
 * `node --import tsx test/reliability/flood.ts` with FLOOD_PLAN (JSON FloodPlan) and FLOOD_URL.
 */
import { createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';

export interface FloodPlan {
  webhooks: number;
  duplicateRatio: number;
  customers: number;
  concurrency: number;
  seed: number;
  wabaId: string;
  phoneNumberId: string;
  displayPhoneNumber: string;
  /** Of the unique deliveries, this many are for numbers no onboarding registered (`unknownNumbers`, in turn). */
  unknownNumberDeliveries: number;
  unknownNumbers: string[];
  /** Of the unique deliveries, this many hold a valid message and a malformed one (no type) side by side. */
  malformedDeliveries: number;
  /** Of the unique deliveries, one holds this many messages (0: none). */
  bulkMessages: number;
  appSecret: string;
  /** The flood gives up (exit 2) past this. */
  deadlineMs: number;
}

export const floodCustomer = (plan: FloodPlan, i: number) => `1650556${String(i % plan.customers).padStart(4, '0')}`;
export const floodWamid = (i: number) => `wamid.flood-${i}`;
export const uniqueCount = (plan: FloodPlan) => Math.round(plan.webhooks * (1 - plan.duplicateRatio));

/**
 * The unique deliveries, in plan order: the 1,000-item one (if any), those for unknown numbers,
 * those with a malformed item, then single messages. Each valid message has its own index `i`
 * (its wamid and customer); a message for an unknown number or a malformed one has none.
 */
type Delivery =
  | { kind: 'messages'; messages: number[] }
  | { kind: 'unknown'; n: number; phoneNumberId: string }
  | { kind: 'malformed'; n: number; message: number };

function deliveries(plan: FloodPlan): Delivery[] {
  const out: Delivery[] = [];
  let next = 0;
  const take = (count: number) => Array.from({ length: count }, () => next++);
  if (plan.bulkMessages > 0) out.push({ kind: 'messages', messages: take(plan.bulkMessages) });
  for (let n = 0; n < plan.unknownNumberDeliveries; n++)
    out.push({ kind: 'unknown', n, phoneNumberId: plan.unknownNumbers[n % plan.unknownNumbers.length]! });
  for (let n = 0; n < plan.malformedDeliveries; n++) out.push({ kind: 'malformed', n, message: take(1)[0]! });
  while (out.length < uniqueCount(plan)) out.push({ kind: 'messages', messages: take(1) });
  return out;
}

/** The valid messages each customer sent, by wamid: each must be recorded once. */
export function floodExpectation(plan: FloodPlan): Map<string, string[]> {
  const byCustomer = new Map<string, string[]>();
  for (const d of deliveries(plan)) {
    const valid = d.kind === 'messages' ? d.messages : d.kind === 'malformed' ? [d.message] : [];
    for (const i of valid) {
      const waId = floodCustomer(plan, i);
      byCustomer.set(waId, [...(byCustomer.get(waId) ?? []), floodWamid(i)]);
    }
  }
  return byCustomer;
}

/** Each valid message once, in the customers' conversations. */
export const validCount = (plan: FloodPlan) => [...floodExpectation(plan).values()].reduce((n, ids) => n + ids.length, 0);

function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Indexes of the unique deliveries in sending order: each once, plus repeats, shuffled. */
function sendingOrder(plan: FloodPlan): number[] {
  const random = mulberry32(plan.seed);
  const unique = uniqueCount(plan);
  const order = Array.from({ length: unique }, (_, i) => i);
  while (order.length < plan.webhooks) order.push(Math.floor(random() * unique));
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

const text = (plan: FloodPlan, i: number) => ({
  from: floodCustomer(plan, i),
  id: floodWamid(i),
  timestamp: String(1_796_000_000 + i),
  type: 'text',
  text: { body: `flood message ${i}` },
});

function body(plan: FloodPlan, d: Delivery, time: number): string {
  const { phoneNumberId, messages } =
    d.kind === 'messages'
      ? { phoneNumberId: plan.phoneNumberId, messages: d.messages.map((i) => text(plan, i)) }
      : d.kind === 'unknown'
        ? {
            phoneNumberId: d.phoneNumberId,
            messages: [{ ...text(plan, d.n), id: `wamid.flood-unknown-${d.n}`, text: { body: `unknown ${d.n}` } }],
          }
        : {
            phoneNumberId: plan.phoneNumberId,
            // No `type`: malformed, quarantined; its valid sibling is applied.
            messages: [
              { from: floodCustomer(plan, d.message), id: `wamid.flood-malformed-${d.n}`, timestamp: String(time) },
              text(plan, d.message),
            ],
          };
  const waIds = [...new Set(messages.map((m) => m.from))];
  const value = {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: plan.displayPhoneNumber, phone_number_id: phoneNumberId },
    contacts: waIds.map((waId) => ({ profile: { name: `Customer ${waId.slice(-4)}` }, wa_id: waId })),
    messages,
  };
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: plan.wabaId, time, changes: [{ field: 'messages', value }] }],
  });
}

async function flood(plan: FloodPlan, url: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: plan.concurrency });
  const post = (raw: string) =>
    new Promise<number | string>((resolve) => {
      const req = request(url, {
        method: 'POST',
        agent,
        timeout: 30_000,
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': `sha256=${createHmac('sha256', plan.appSecret).update(raw).digest('hex')}`,
        },
      });
      req.once('response', (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      });
      req.once('timeout', () => req.destroy(new Error('timeout')));
      req.once('error', (err) => resolve((err as NodeJS.ErrnoException).code ?? err.message));
      req.end(raw);
    });

  const order = sendingOrder(plan);
  const unique = deliveries(plan);
  const answers: Record<string, number> = {};
  let next = 0;
  let accepted = 0;
  let redeliveries = 0;
  const started = Date.now();
  const lane = async () => {
    while (next < order.length) {
      if (Date.now() - started > plan.deadlineMs)
        throw new Error(`flood past its deadline of ${plan.deadlineMs} ms at ${accepted}/${order.length}`);
      const n = order[next++]!;
      const raw = body(plan, unique[n]!, 1_796_000_000 + n);
      for (;;) {
        const status = await post(raw);
        answers[status] = (answers[status] ?? 0) + 1;
        if (status === 200) break;
        redeliveries++;
        await new Promise((r) => setTimeout(r, 500));
      }
      if (++accepted % 1000 === 0) console.log(JSON.stringify({ msg: 'flood progress', accepted }));
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, lane));
  agent.destroy();
  return {
    webhooks: order.length,
    unique: uniqueCount(plan),
    repeated: order.length - uniqueCount(plan),
    answers,
    redeliveries,
    durationMs: Date.now() - started,
  };
}

if (require.main === module) {
  flood(JSON.parse(process.env.FLOOD_PLAN!) as FloodPlan, process.env.FLOOD_URL!)
    .then((summary) => {
      console.log(JSON.stringify({ msg: 'flood done', ...summary }));
      process.exit(0);
    })
    .catch((err) => {
      console.error(JSON.stringify({ msg: 'flood failed', error: String(err) }));
      process.exit(2);
    });
}
