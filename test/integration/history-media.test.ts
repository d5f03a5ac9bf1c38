/**
 * History media (issue 19, finding 3), end to end through the simulator: the history sync sends a
 * photo as a `media_placeholder` in a chunk and its media in a follow-up (`history` with plain
 * `messages[]`), after the chunk or before it. Either way the photo ends with its media, opens no
 * window, and the onboarding shows the history's counts. Real Temporal, real HTTP, signed webhooks.
 */
import { startHarness, type Harness } from '../helpers/harness';
import { onboardToActive } from '../helpers/onboard';
import { eventually } from '../helpers/wait';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.stop();
});

/** The customer of the simulator's history thread. */
const customer = '16505551234';

test.each([
  ['after', '+15550739001', false],
  ['before', '+15550739002', true],
] as const)(
  'the simulated history sync with the media follow-up %s its chunk ends with the photo attached and no window open',
  async (_order, phone, historyMediaFirst) => {
    const { phoneNumberId } = await onboardToActive(h, phone, { historyMediaFirst });
    const messages = () => h.api('GET', `/numbers/${phoneNumberId}/conversations/${customer}/messages?order=asc&limit=50`);
    const synced = await eventually(messages, (r) => r.body?.messages?.some((m: any) => m.type === 'image'), {
      timeoutMs: 60_000,
    });
    const photo = synced.body.messages.find((m: any) => m.type === 'image');
    expect(photo).toMatchObject({
      id: `wamid.history-media-${phoneNumberId}`,
      source: 'history',
      content: { image: { id: `media-${phoneNumberId}` }, history_context: { status: 'READ' } },
    });
    expect(synced.body.messages.every((m: any) => m.source === 'history')).toBe(true);

    const onboarding = await eventually(
      () => h.api('GET', `/onboardings/${phone}`),
      (r) => r.body?.sync?.historyReceived?.messages === 3,
    );
    expect(onboarding.body.sync.historyReceived).toEqual({ messages: 3, mediaPlaceholders: 0, mediaAttached: 1 });
    // Progress per phase and chunk: the simulator sends one chunk in phase 0 and one in phase 1 (100 %).
    const complete = await h.onboardingWhen(phone, (o) => o.sync.historyProgress.status === 'complete');
    expect(complete.sync.historyProgress).toMatchObject({
      progress: 100,
      chunks: 2,
      phases: { '0': { chunks: 1, lastChunkOrder: 1 }, '1': { chunks: 1, lastChunkOrder: 1 } },
    });
    const view = await h.api('GET', `/numbers/${phoneNumberId}/conversations/${customer}`);
    expect(view.body.customerServiceWindow.status).toBe('closed');
    expect(view.body.counts).toMatchObject({ customer: 0 });
  },
);
