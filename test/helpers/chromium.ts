import { existsSync } from 'node:fs';

/**
 * The machine's Chromium for browser tests (`apt-get install -y chromium`): CHROMIUM_PATH, then
 * the Debian and Ubuntu locations; or why there is none.
 */
export function findChromium(): { executablePath: string } | { missing: string } {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(
    (p): p is string => !!p,
  );
  const executablePath = candidates.find((p) => existsSync(p));
  if (!executablePath)
    return { missing: `no Chromium at ${candidates.join(', ')}; apt-get install -y chromium, or set CHROMIUM_PATH` };
  return { executablePath };
}
