import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { movesClock, scenarioSchema, type Scenario } from './schema';

/** A scenario file that cannot be played: the file, the step and the field, in the message. */
export class ScenarioFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: { step?: number; stepKind?: string; field: string; message: string }[],
  ) {
    super(
      `${file}: ${problems.map((p) => `${p.step !== undefined ? `step ${p.step}${p.stepKind ? ` (${p.stepKind})` : ''}: ` : ''}${p.field}: ${p.message}`).join('; ')}`,
    );
    this.name = 'ScenarioFileError';
  }
}

/** Reads and checks a `.yaml`, `.yml` or `.json` scenario file. */
export function loadScenario(file: string): Scenario & { file: string } {
  const text = readFileSync(file, 'utf8');
  let raw: unknown;
  try {
    raw = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ScenarioFileError(file, [
      {
        field: '(file)',
        message: `not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
      },
    ]);
  }
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success)
    throw new ScenarioFileError(
      file,
      parsed.error.issues.map((issue) => problem(raw, issue)),
    );
  return { ...parsed.data, file: basename(file) };
}

function problem(raw: unknown, issue: z.core.$ZodIssue) {
  const path = issue.path.map(String);
  if (path[0] === 'steps' && path[1] !== undefined) {
    const index = Number(path[1]);
    const kind = ((raw as { steps?: { do?: unknown }[] }).steps?.[index]?.do as string | undefined) ?? undefined;
    return {
      step: index + 1,
      ...(kind ? { stepKind: kind } : {}),
      field: path.slice(2).join('.') || '(step)',
      message: issue.message,
    };
  }
  return { field: path.join('.') || '(scenario)', message: issue.message };
}

/** Where the committed scenario files are. */
export const SCENARIOS_DIR = resolve(__dirname, '..', 'test', 'scenarios');

/** Every scenario file of a folder, by file name: what it shows and whether it moves the clock. */
export function listScenarios(dir: string = SCENARIOS_DIR) {
  return readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/i.test(f))
    .sort()
    .map((file) => {
      const scenario = loadScenario(join(dir, file));
      return { file, name: scenario.name, description: scenario.description, movesClock: movesClock(scenario) };
    });
}
