import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The kernel hands out ports from its ephemeral range to every outgoing connection and to every
 * server that listens on port 0 (a Temporal dev server opens several for its own services). A port
 * taken from that range and given to a server a moment later can be taken in between; ports below
 * the range are handed out only when asked for by number. Temporal's cluster membership stores
 * ports as SMALLINT: they stay below 32 768 too.
 */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

const low = 10_000;
const high = Math.max(low + 1_000, Math.min(ephemeralLow(), 32_768));

function listensFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => done(true)));
  });
}

const given = new Set<number>();

/** A port that was free a moment ago and lies outside the ephemeral range, for servers told their port up front. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (given.has(port)) continue;
    if (await listensFree(port)) {
      given.add(port);
      return port;
    }
  }
}
