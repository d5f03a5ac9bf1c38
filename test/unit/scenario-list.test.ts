/**
 * `npm run scenario` with no file lists every committed scenario file with its one-line name and
 * whether it moves the clock; every committed file says what it shows (`description`).
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { listScenarios, SCENARIOS_DIR } from '../../scenarios/load';

const root = resolve(__dirname, '..', '..');

function scenarioScript(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      join(root, 'node_modules', '.bin', 'tsx'),
      [join(root, 'scripts', 'scenario.ts'), ...args],
      { cwd: root, timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('every committed scenario file has a one-line name and a description', () => {
  const files = readdirSync(SCENARIOS_DIR).filter((f) => f.endsWith('.yaml'));
  const listed = listScenarios();
  expect(listed.map((s) => s.file)).toEqual([...files].sort());
  for (const s of listed) {
    expect({ file: s.file, name: s.name }).toEqual({ file: s.file, name: expect.not.stringMatching(/\n/) });
    expect({ file: s.file, description: s.description }).toEqual({
      file: s.file,
      description: expect.stringMatching(/\w+ \w+ \w+/),
    });
  }
  expect(listed.find((s) => s.file === 'onboarding-qr-lapses-twice.yaml')?.movesClock).toBe(true);
  expect(listed.find((s) => s.file === 'onboarding-happy-path.yaml')?.movesClock).toBe(false);
});

test('npm run scenario with no file lists the files, their names, and which move the clock', async () => {
  const { code, stdout, stderr } = await scenarioScript([]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  expect(stdout).toMatch(/^usage: npm run scenario -- <scenario file>/);
  for (const s of listScenarios()) {
    const line = stdout.split('\n').find((l) => l.trimStart().startsWith(`${s.file} `));
    expect(line).toBeDefined();
    expect(line).toContain(s.name);
    expect(line!.includes('moves the clock')).toBe(s.movesClock);
  }
});
