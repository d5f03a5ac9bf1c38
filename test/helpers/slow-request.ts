import { request } from 'node:http';

/**
 * A request the server holds in flight until the test lets it finish: sent with `Expect:
 * 100-continue`, so `inFlight` resolves once the server's handler has the request (its 100
 * Continue), and the body goes only on `finish()`.
 */
export function slowRequest(url: string, method: string, body: unknown, headers: Record<string, string> = {}) {
  const raw = Buffer.from(JSON.stringify(body));
  const req = request(url, {
    method,
    headers: { 'content-type': 'application/json', 'content-length': String(raw.length), expect: '100-continue', ...headers },
  });
  const inFlight = new Promise<void>((resolve) => req.once('continue', resolve));
  const answer = new Promise<{ status: number; headers: Record<string, unknown>; body: any }>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined });
      });
    });
  });
  req.flushHeaders();
  return { inFlight, answer, finish: () => req.end(raw) };
}

/** The error a new connection to `url` fails with (`ECONNREFUSED` once nothing listens), or undefined if it connected. */
export async function connectionError(url: string): Promise<string | undefined> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(10_000) });
    return undefined;
  } catch (err) {
    return ((err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).name) as string;
  }
}
