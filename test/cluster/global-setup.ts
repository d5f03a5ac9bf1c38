import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { ensureClusterBinaries } from '../../scripts/cluster-binaries';
import globalSetup from '../global-setup';

/** Debian packages the cluster runs on, by a file each one installs. */
const PACKAGES = [
  {
    name: 'postgresql',
    present: () => existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').length > 0,
  },
  { name: 'haproxy', present: () => existsSync('/usr/sbin/haproxy') },
];

/**
 * What a fresh machine lacks for the cluster: PostgreSQL and haproxy from Debian (as root with
 * apt-get; otherwise the test says what is missing), the Temporal server and SQL tool built with
 * `go install` (cached in .cluster/), and the Temporal CLI (npm's postinstall, as for `npm test`).
 */
export default function clusterGlobalSetup(): void {
  const missing = PACKAGES.filter((p) => !p.present()).map((p) => p.name);
  if (missing.length > 0 && userInfo().uid === 0 && existsSync('/usr/bin/apt-get')) {
    console.log(`installing ${missing.join(', ')} (apt-get)`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  ensureClusterBinaries();
  globalSetup();
}
