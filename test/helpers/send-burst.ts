import type { Harness } from './harness';
import { sendRate, type LoggedSendRequest } from './send-rate';
import { eventually } from './wait';

/** Meta's limit for one number and the pacing the sender keeps to: never more than 20 requests in any second, never a 130429. */
export function expectPaced(requests: LoggedSendRequest[], since: number): void {
  const rate = sendRate(requests, since);
  expect(rate.busiestSecond).toBeLessThanOrEqual(20);
  expect(rate.refused130429).toBe(0);
}

type Driver = Pick<Harness, 'api' | 'sim' | 'simulator'>;

/**
 * `perCustomer` sends to each of `customers` (each with an open window), all at once through the
 * API; resolves once all were accepted by Meta, or as soon as Meta's log shows the pacing broken.
 * `since` is the simulator's clock when the sends began.
 */
export async function burstOfSends(
  h: Driver,
  phone: string,
  phoneNumberId: string,
  waIds: string[],
  perCustomer: number,
  tag: string,
) {
  for (const waId of waIds) {
    const wrote = await h.sim('POST', `/numbers/${phone}/customers/${waId}/messages`, { text: 'Hi' });
    if (wrote.status >= 300) throw new Error(`customer message: ${JSON.stringify(wrote.body)}`);
  }
  await Promise.all(
    waIds.map((waId) =>
      eventually(
        () => h.api('GET', `/numbers/${phoneNumberId}/conversations/${waId}`),
        (r) => r.body?.customerServiceWindow?.status === 'open',
      ),
    ),
  );
  const since = h.simulator.world.clock.now();
  // Each customer's messages in order, all customers at once.
  const answers = await Promise.all(
    waIds.map(async (waId) => {
      const statuses: number[] = [];
      for (let n = 1; n <= perCustomer; n++)
        statuses.push(
          (
            await h.api('POST', `/numbers/${phoneNumberId}/conversations/${waId}/messages`, {
              clientMessageId: `${tag}-${waId}-${n}`,
              message: { type: 'text', text: { body: `message ${n}` } },
            })
          ).status,
        );
      return statuses;
    }),
  );
  expect(answers.flat().filter((status) => status !== 202)).toEqual([]);
  const ofBurst = (log: any) => (log.sent as any[]).filter((s) => String(s.bizOpaqueCallbackData).startsWith(`${tag}-`));
  const log = await eventually(
    async () => (await h.sim('GET', `/numbers/${phone}/sent`)).body,
    (l) => {
      const rate = sendRate(l.requests, since);
      return ofBurst(l).length >= waIds.length * perCustomer || rate.busiestSecond > 20 || rate.refused130429 > 0;
    },
    { timeoutMs: 90_000, intervalMs: 250 },
  );
  return { since, requests: log.requests as LoggedSendRequest[], sent: ofBurst(log) };
}
