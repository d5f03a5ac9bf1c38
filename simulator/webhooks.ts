import { createHmac } from 'node:crypto';

/**
 * Pending deliveries attempted at once by a redelivery: a receiver that waits seconds before
 * refusing (503) must not hold a long backlog for minutes.
 */
const REDELIVERY_CONCURRENCY = 16;

export interface WebhookDelivery {
  id: number;
  /** `changes[0].field` of the body (`messages` carries both inbound messages and statuses). */
  field?: string;
  body: string;
  attempts: number;
  deliveredAt?: number;
  lastStatus?: number | string;
}

/**
 * Meta's side of webhooks: every change goes out in the `whatsapp_business_account` envelope,
 * signed with `X-Hub-Signature-256` over the exact bytes sent. Anything but a 200 keeps the
 * delivery pending; pending ones are retried on a timer and on demand, like Meta's retries.
 * Each delivery has at most one attempt in flight, so a timer and an on-demand redelivery never
 * deliver it twice.
 */
export class WebhookOutbox {
  readonly deliveries: WebhookDelivery[] = [];
  /** The answer to the latest attempt of any delivery: a status, or the error's name. */
  lastStatus: number | string | undefined;
  /** Every attempt's answer, by status or error name: what the receiver said, attempt by attempt. */
  readonly answers: Record<string, number> = {};
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Map<WebhookDelivery, Promise<void>>();

  constructor(
    private readonly appSecret: string,
    public webhookUrl: string | undefined,
    private readonly retryIntervalMs: number,
  ) {}

  /**
   * Queues one change of `field` for WABA `wabaId` and tries to deliver it now. Without a time the
   * entry has no `time` at all, a shape integrators have published as received.
   */
  send(wabaId: string, field: string, value: unknown, timeSeconds: number | undefined): Promise<void> {
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: wabaId, ...(timeSeconds !== undefined ? { time: timeSeconds } : {}), changes: [{ field, value }] }],
    });
    return this.sendRaw(body);
  }

  async sendRaw(body: string): Promise<void> {
    const delivery: WebhookDelivery = { id: ++this.seq, field: fieldOf(body), body, attempts: 0 };
    this.deliveries.push(delivery);
    await this.attempt(delivery);
  }

  pending(): WebhookDelivery[] {
    return this.deliveries.filter((d) => d.deliveredAt === undefined);
  }

  /** Delivered and pending counts per field. */
  byField(): Record<string, { delivered: number; pending: number }> {
    const counts: Record<string, { delivered: number; pending: number }> = {};
    for (const d of this.deliveries) {
      const c = (counts[d.field ?? '?'] ??= { delivered: 0, pending: 0 });
      if (d.deliveredAt === undefined) c.pending++;
      else c.delivered++;
    }
    return counts;
  }

  /** Attempts every pending delivery, `REDELIVERY_CONCURRENCY` at a time, oldest first. */
  async redeliver(): Promise<{ delivered: number; pending: number }> {
    const before = this.pending();
    let next = 0;
    const lane = async () => {
      while (next < before.length) await this.attempt(before[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(REDELIVERY_CONCURRENCY, before.length) }, lane));
    return { delivered: before.length - this.pending().length, pending: this.pending().length };
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  /** One attempt at a time per delivery: a redelivery during an attempt waits for that attempt. */
  private attempt(d: WebhookDelivery): Promise<void> {
    if (!this.webhookUrl || d.deliveredAt !== undefined) return Promise.resolve();
    let attempt = this.inFlight.get(d);
    if (!attempt) {
      attempt = this.post(d, this.webhookUrl).finally(() => this.inFlight.delete(d));
      this.inFlight.set(d, attempt);
    }
    return attempt;
  }

  private async post(d: WebhookDelivery, url: string): Promise<void> {
    d.attempts++;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': `sha256=${createHmac('sha256', this.appSecret).update(d.body).digest('hex')}`,
        },
        body: d.body,
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      d.lastStatus = this.lastStatus = response.status;
      this.answers[response.status] = (this.answers[response.status] ?? 0) + 1;
      if (response.status === 200) d.deliveredAt = Date.now();
    } catch (err) {
      d.lastStatus = this.lastStatus = (err as Error).name;
      this.answers[d.lastStatus] = (this.answers[d.lastStatus] ?? 0) + 1;
    }
    if (d.deliveredAt === undefined) this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.timer || this.retryIntervalMs <= 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.redeliver();
    }, this.retryIntervalMs);
    this.timer.unref();
  }
}

function fieldOf(body: string): string | undefined {
  try {
    const field: unknown = JSON.parse(body)?.entry?.[0]?.changes?.[0]?.field;
    return typeof field === 'string' ? field : undefined;
  } catch {
    return undefined;
  }
}
