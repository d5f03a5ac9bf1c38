/**
 * What an onboarding waits for, and the repairs ops are offered, are both read from the machine:
 * every state the waits table names exists, every leaf state has an answer, and the offered repairs
 * are exactly those the state takes (what an Update would be refused for is never offered).
 */
import { createActor, transition, type AnyStateNode } from 'xstate';
import { acceptedActions, OPS_ACTIONS, repairEvent } from '../../api/ops/events';
import { formatStateValue } from '../../contracts/machine-api';
import { ACTORS, onboardingMachine, STAGES, WAITS, waitOf, BLOCKED_REASONS, BLOCKED_WAITS } from '../../machines/onboarding';

function leafPaths(node: AnyStateNode, prefix = ''): string[] {
  const children = Object.values(node.states) as AnyStateNode[];
  if (children.length === 0) return [prefix];
  return children.flatMap((child) => leafPaths(child, prefix ? `${prefix}.${child.key}` : child.key));
}
const leaves = leafPaths(onboardingMachine.root);

test('every state the table names is a state of the machine, and every stage has its own entry', () => {
  for (const key of Object.keys(WAITS)) {
    expect(leaves.some((leaf) => leaf === key || leaf.startsWith(`${key}.`))).toBe(true);
  }
  expect(STAGES.filter((stage) => !(stage in WAITS))).toEqual([]);
});

test('every leaf state waits on someone named, and sub-states override their stage', () => {
  for (const leaf of leaves) expect(ACTORS).toContain(waitOf(leaf).actor);
  expect(waitOf('signup.awaitingResult')).toBe(WAITS.signup);
  expect(waitOf('signup.exchangingCode').actor).toBe('meta');
  expect(waitOf('payment.paymentMethod.awaitingPaymentMethod,payment.history.idle').actor).toBe('person');
  expect(waitOf('payment.paymentMethod.checking,payment.history.idle')).toBe(WAITS.payment);
});

test("a blocked reason's retry policy says who must act", () => {
  expect(waitOf('blocked', 'qr_not_scanned')).toBe(BLOCKED_WAITS.same_stage);
  expect(waitOf('blocked', 'permission_missing')).toBe(BLOCKED_WAITS.signup);
  expect(waitOf('blocked', 'waba_restricted').actor).toBe('ops');
  // Registration that cannot be confirmed is blocked in its own stage.
  expect(waitOf('registration.stuck', 'registration_not_confirmed')).toBe(
    BLOCKED_WAITS[BLOCKED_REASONS.registration_not_confirmed.retry],
  );
});

describe('the repairs offered are the ones the state takes', () => {
  function snapshotAfter(...events: Parameters<ReturnType<typeof createActor<typeof onboardingMachine>>['send']>[0][]) {
    const actor = createActor(onboardingMachine, { input: { phoneNumber: '+15550001111' } }).start();
    for (const event of events) actor.send(event);
    const s = actor.getSnapshot();
    actor.stop();
    // As the API gets it: the workflow's view, through JSON.
    return JSON.parse(JSON.stringify({ value: s.value, context: s.context, status: s.status }));
  }
  const offered = (view: ReturnType<typeof snapshotAfter>) => acceptedActions(view, Date.now());

  test('prerequisites: only cancel', () => {
    expect(offered(snapshotAfter())).toEqual([{ action: 'cancel' }]);
  });

  test('blocked on an old app: retry, cancel, and reset to the stages that need nothing from signup', () => {
    const view = snapshotAfter({
      type: 'prerequisites.report',
      appVersion: '2.20.0',
      hasBusinessPortfolio: true,
      connectedElsewhere: false,
    });
    expect(formatStateValue(view.value)).toBe('blocked');
    expect(offered(view)).toEqual([
      { action: 'retry' },
      { action: 'cancel' },
      { action: 'reset', to: 'prerequisites' },
      { action: 'reset', to: 'signup' },
    ]);
  });

  test('each offered repair moves the machine; each other one would be refused', () => {
    const view = snapshotAfter({
      type: 'prerequisites.report',
      appVersion: '2.20.0',
      hasBusinessPortfolio: true,
      connectedElsewhere: false,
    });
    const accepted = new Set(offered(view).map((a) => JSON.stringify(a)));
    for (const action of OPS_ACTIONS) {
      const snapshot = onboardingMachine.resolveState({ value: view.value, context: view.context });
      const [next] = transition(onboardingMachine, snapshot, repairEvent(action, 'ops:test', Date.now()));
      const moved = JSON.stringify(next.value) !== JSON.stringify(snapshot.value);
      expect([JSON.stringify(action), moved]).toEqual([JSON.stringify(action), accepted.has(JSON.stringify(action))]);
    }
  });

  test('a finished onboarding offers nothing', () => {
    expect(offered(snapshotAfter({ type: 'cancel' }))).toEqual([]);
  });
});
