import { createHmac } from 'node:crypto';

export interface WebhookDelivery {
  id: number;
  body: string;
  attempts: number;
  deliveredAt?: number;
  lastStatus?: number | string;
}

/**
 * Meta's side of webhooks: every change goes out in the `whatsapp_business_account` envelope,
 * signed with `X-Hub-Signature-256` over the exact bytes sent. Anything but a 200 keeps the
 * delivery pending; pending ones are retried on a timer and on demand, like Meta's retries.
 */
export class WebhookOutbox {
  readonly deliveries: WebhookDelivery[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly appSecret: string,
    public webhookUrl: string | undefined,
    private readonly retryIntervalMs: number,
  ) {}

  /** Queues one change of `field` for WABA `wabaId` and tries to deliver it now. */
  send(wabaId: string, field: string, value: unknown, timeSeconds: number): Promise<void> {
    const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: wabaId, time: timeSeconds, changes: [{ field, value }] }] });
    return this.sendRaw(body);
  }

  async sendRaw(body: string): Promise<void> {
    const delivery: WebhookDelivery = { id: ++this.seq, body, attempts: 0 };
    this.deliveries.push(delivery);
    await this.attempt(delivery);
  }

  pending(): WebhookDelivery[] {
    return this.deliveries.filter((d) => d.deliveredAt === undefined);
  }

  async redeliver(): Promise<{ delivered: number; pending: number }> {
    const before = this.pending();
    for (const d of before) await this.attempt(d);
    return { delivered: before.length - this.pending().length, pending: this.pending().length };
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private async attempt(d: WebhookDelivery): Promise<void> {
    if (!this.webhookUrl) return;
    d.attempts++;
    try {
      const response = await fetch(this.webhookUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': `sha256=${createHmac('sha256', this.appSecret).update(d.body).digest('hex')}`,
        },
        body: d.body,
        signal: AbortSignal.timeout(10_000),
      });
      d.lastStatus = response.status;
      await response.arrayBuffer();
      if (response.status === 200) d.deliveredAt = Date.now();
    } catch (err) {
      d.lastStatus = (err as Error).name;
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
