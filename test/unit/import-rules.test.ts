/**
 * The rooms' import rules (README, Architecture), checked on every import of every tracked source
 * file: a relative import is resolved to the room it lands in, a bare one is a package.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

const root = join(__dirname, '..', '..');
const ROOMS = ['machines', 'contracts', 'workflows', 'activities', 'store', 'api', 'simulator'] as const;
type Room = (typeof ROOMS)[number];

/** What each room may import: other rooms, and packages (a prefix of the package name). */
const MAY_IMPORT: Record<Room, { rooms: readonly Room[]; packages: 'any' | readonly string[] }> = {
  machines: { rooms: ['machines'], packages: ['xstate'] },
  // libphonenumber-js: pure and deterministic, it reads phone numbers to the E.164 of workflow ids.
  contracts: {
    rooms: ['contracts', 'machines'],
    packages: ['@temporalio/common', '@temporalio/workflow', 'xstate', 'libphonenumber-js'],
  },
  workflows: {
    rooms: ['workflows', 'contracts', 'machines'],
    packages: ['@temporalio/common', '@temporalio/workflow', 'xstate'],
  },
  activities: { rooms: ['activities', 'contracts', 'machines', 'store'], packages: 'any' },
  store: { rooms: ['store', 'machines'], packages: 'any' },
  // Workflow types only, for typed starts (as Temporal's client samples do).
  api: { rooms: ['api', 'contracts', 'machines', 'store', 'workflows'], packages: 'any' },
  simulator: { rooms: ['simulator'], packages: 'any' },
};
/** Top-level modules every room but the pure ones may use (configuration and logging). */
const SHARED_TOP_LEVEL = [
  'config',
  'logger',
  'client',
  'package.json',
  'observability/metrics',
  'security/payload-codec',
  'security/hmac',
];
const PURE: readonly Room[] = ['machines', 'contracts', 'workflows'];

function roomOf(path: string): Room | undefined {
  return ROOMS.find((room) => path === room || path.startsWith(`${room}/`));
}

const files = execFileSync('git', ['ls-files', '*.ts'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((file) => roomOf(file) !== undefined);

const violations: string[] = [];
for (const file of files) {
  const room = roomOf(file)!;
  const rule = MAY_IMPORT[room];
  const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
  for (const { fileName: spec } of importedFiles) {
    if (spec.startsWith('.')) {
      const target = normalize(relative(root, join(root, dirname(file), spec)));
      const targetRoom = roomOf(target);
      if (targetRoom !== undefined ? rule.rooms.includes(targetRoom) : !PURE.includes(room) && SHARED_TOP_LEVEL.includes(target))
        continue;
      violations.push(`${file} imports ${spec} (${targetRoom ?? target})`);
    } else if (rule.packages !== 'any' && !rule.packages.some((name) => spec === name || spec.startsWith(`${name}/`))) {
      violations.push(`${file} imports the package ${spec}`);
    }
  }
}

test(`every import in ${files.length} files keeps its room's rules`, () => {
  expect(files.length).toBeGreaterThan(50);
  expect(violations).toEqual([]);
});
