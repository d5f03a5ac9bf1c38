/**
 * Secrets come from the environment or files, never from the repository: no tracked file holds a
 * private key, a Meta access token or a cloud credential, and the only secrets config.ts knows
 * are the marked local development ones (which production refuses: config.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig, SECRET_VARIABLES } from '../../config';

const root = resolve(__dirname, '..', '..');
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);

const LEAKS: [string, RegExp][] = [
  ['private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['Meta access token', /\bEAA[A-Za-z0-9]{30,}/],
  ['AWS access key', /\bAKIA[0-9A-Z]{16}\b/],
  ['GitHub token', /\bgh[pousr]_[A-Za-z0-9]{36}\b/],
  ['Slack token', /\bxox[abprs]-[A-Za-z0-9-]{10,}/],
];

test('no tracked file holds a private key, access token or credential', () => {
  expect(tracked.length).toBeGreaterThan(50);
  const found: string[] = [];
  for (const file of tracked) {
    if (/(^|\/)\.env(\..+)?$/.test(file)) found.push(`${file}: .env file`);
    if (file === 'package-lock.json' || /^test\/histories\//.test(file)) continue;
    const text = readFileSync(join(root, file), 'latin1');
    for (const [kind, pattern] of LEAKS) if (pattern.test(text)) found.push(`${file}: ${kind}`);
  }
  expect(found).toEqual([]);
});

test("the configuration's built-in secrets are all marked as local development values", () => {
  const config = loadConfig({});
  for (const name of SECRET_VARIABLES) {
    const value = config[name];
    if (value === undefined) continue;
    const text = JSON.stringify(value, (_k, v) => (v?.type === 'Buffer' ? Buffer.from(v.data).toString('utf8') : v));
    const decoded = typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : '';
    expect({ name, marked: /local/.test(text) || /local/.test(decoded) }).toEqual({ name, marked: true });
  }
});
