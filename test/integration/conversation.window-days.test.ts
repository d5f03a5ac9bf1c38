/**
 * The 24-hour customer service window over real days, on the time-skipping test server: the
 * customer writes through the simulator (signed webhook → API → signal-with-start), days pass
 * without waiting for them, and the window's one timer re-checks the deadline instead of being
 * restarted by every message.
 */
import { conversationWorkflowId } from '../../contracts/ids';
import { stateQuery } from '../../contracts/machine-api';
import { startHarness, type Harness } from '../helpers/harness';
import { registerNumber } from '../helpers/register';
import { eventually } from '../helpers/wait';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ timeSkipping: true });
});

afterAll(async () => {
  await h?.stop();
});

const HOUR = 3_600_000;
const phone = '+15550209001';

test('the window closes after 24 h of silence; a message in between moves the deadline, not the timer count', async () => {
  const { phoneNumberId, wabaId } = (await h.sim('POST', '/numbers', { phoneNumber: phone })).body;
  // No onboarding here: the number is registered as its onboarding would register it.
  await registerNumber(h.store, { phoneNumberId, wabaId, display: phone });
  const waId = '16505559001';
  const conversation = () => h.api('GET', `/numbers/${phoneNumberId}/conversations/${waId}`);
  const customerWrites = (text: string) => h.sim('POST', `/numbers/${phone}/customers/${waId}/messages`, { text });
  const pendingTimers = async () =>
    (await h.env.client.workflow.getHandle(conversationWorkflowId(phoneNumberId, waId)).query(stateQuery)).pendingTimers;

  await customerWrites('Hi, are you open?');
  const opened = await eventually(conversation, (r) => r.status === 200 && r.body.customerServiceWindow.status === 'open');
  const firstDeadline = opened.body.customerServiceWindow.expiresAt;
  expect(await pendingTimers()).toHaveLength(1);

  // 20 hours later (on both clocks) the customer writes again: the deadline moves to 24 h from then.
  await h.env.sleep(20 * HOUR);
  await h.sim('POST', '/clock/advance', { ms: 20 * HOUR });
  await customerWrites('Still there?');
  const extended = await eventually(conversation, (r) => r.body.counts.customer === 2);
  expect(extended.body.customerServiceWindow.expiresAt).toBeGreaterThanOrEqual(firstDeadline + 20 * HOUR);
  expect(await pendingTimers()).toHaveLength(1);

  // Past the first deadline: the check fires, finds the later one, and waits again.
  await h.env.sleep(5 * HOUR);
  const stillOpen = (await conversation()).body;
  expect(stillOpen.customerServiceWindow.status).toBe('open');
  expect(stillOpen.allowedToSend).toBe('any');

  // 24 h after the last message: closed, and only templates may go out.
  await h.env.sleep(20 * HOUR);
  const closed = (await conversation()).body;
  expect(closed.customerServiceWindow.status).toBe('closed');
  expect(closed.allowedToSend).toBe('templates_only');
  expect(await pendingTimers()).toHaveLength(0);
});
