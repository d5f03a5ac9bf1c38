/**
 * The pacing check bites: with the sender's pacing turned off (a setting only the test harness
 * can give the worker), the same burst breaks the check that conversations.test.ts holds it to.
 * Real Temporal (dev server), the API and the Graph simulator over HTTP.
 */
import { startHarness, type Harness } from '../helpers/harness';
import { onboardToActive } from '../helpers/onboard';
import { burstOfSends, expectPaced } from '../helpers/send-burst';
import { sendRate } from '../helpers/send-rate';

let h: Harness;
const phone = '+15550300001';
let phoneNumberId: string;

beforeAll(async () => {
  h = await startHarness({ testOnlyUnpacedSends: true });
  ({ phoneNumberId } = await onboardToActive(h, phone));
});

afterAll(async () => {
  await h?.stop();
});

test('without the sender pacing, the burst of conversations.test.ts (200 sends to 50 customers) exceeds 20 requests in a second and the pacing check fails', async () => {
  const waIds = Array.from({ length: 50 }, (_, i) => `1650777${String(i).padStart(4, '0')}`);
  const { since, requests } = await burstOfSends(h, phone, phoneNumberId, waIds, 4, 'unpaced');
  const rate = sendRate(requests, since);
  expect(rate.busiestSecond > 20 || rate.refused130429 > 0).toBe(true);
  expect(() => expectPaced(requests, since)).toThrow();
}, 300_000);
