/** Scenario files are checked by one zod schema; what cannot be played says the file, step and field. */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario, ScenarioFileError } from '../../scenarios/load';
import { mismatch } from '../../scenarios/runner';

const dir = mkdtempSync(join(tmpdir(), 'scenarios-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('every committed scenario file loads', () => {
  const scenariosDir = join(__dirname, '..', 'scenarios');
  const files = readdirSync(scenariosDir).filter((f) => f.endsWith('.yaml'));
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) expect(loadScenario(join(scenariosDir, f)).steps.length).toBeGreaterThan(0);
});

test('a step of only `expect` is a check, and durations read as milliseconds', () => {
  const s = loadScenario(
    file(
      'ok.yaml',
      'name: ok\nphone: "+15550100001"\nsteps:\n  - do: advance\n    by: 25h\n  - expect: { onboarding: { stage: active } }\n',
    ),
  );
  expect(s.steps[0]).toEqual({ do: 'advance', by: 25 * 3_600_000 });
  expect(s.steps[1]).toMatchObject({ do: 'check', expect: { onboarding: { stage: 'active' } } });
});

test.each([
  [
    'a wrong field type',
    'steps:\n  - do: prerequisites\n    report: { appVersion: 2, hasBusinessPortfolio: true, connectedElsewhere: false }\n',
    /step 1 \(prerequisites\): report\.appVersion: /,
  ],
  ['an unknown step', 'steps:\n  - do: start\n  - do: teleport\n', /step 2 \(teleport\): do: /],
  ['an unknown field', 'steps:\n  - do: start\n    settngs: {}\n', /step 1 \(start\): (settngs|\(step\)): .*settngs/],
  ['a bad duration', 'steps:\n  - do: advance\n    by: 3 days\n', /step 1 \(advance\): by: .*duration/],
  ['an unknown user event', 'steps:\n  - do: event\n    type: qrScaned\n', /step 1 \(event\): type: /],
  ['an empty expectation', 'steps:\n  - do: start\n    expect: {}\n', /step 1 \(start\): expect: an expectation names/],
])('%s fails with the file, step and field', (_what, steps, message) => {
  const path = file('bad.yaml', `name: bad\nphone: "+15550100001"\n${steps}`);
  expect(() => loadScenario(path)).toThrow(ScenarioFileError);
  expect(() => loadScenario(path)).toThrow(new RegExp(`bad\\.yaml: ${message.source}`));
});

test('a file that is not YAML, or names no steps, says so', () => {
  expect(() => loadScenario(file('broken.yaml', 'name: [unclosed\n'))).toThrow(/broken\.yaml: \(file\): not valid YAML/);
  expect(() => loadScenario(file('empty.yaml', 'name: x\nphone: "+15550100001"\nsteps: []\n'))).toThrow(/empty\.yaml: steps: /);
  expect(() => loadScenario(file('phone.json', '{"name": "x", "phone": "5550100001", "steps": [{"do": "start"}]}'))).toThrow(
    /phone\.json: phone: must be an E\.164 number/,
  );
});

test('expectations match as subsets, lists by length and item, /…/ as patterns', () => {
  const actual = {
    stage: 'blocked',
    blocked: { reason: 'qr_not_scanned', remedy: 'Ask them to refresh the code on Meta' },
    list: [1, 2],
  };
  expect(mismatch(actual, { stage: 'blocked', blocked: { remedy: '/refresh the code/' } }, 'o')).toBeUndefined();
  expect(mismatch(actual, { stage: 'active' }, 'o')).toBe('o.stage: "blocked", expected "active"');
  expect(mismatch(actual, { blocked: { remedy: '/QR/' } }, 'o')).toMatch(/o\.blocked\.remedy: .* does not match \/QR\//);
  expect(mismatch(actual, { list: [1] }, 'o')).toBe('o.list: 2 items, expected 1');
  expect(mismatch(actual, { blocked: null }, 'o')).toMatch(/o\.blocked: .*expected null/);
});
