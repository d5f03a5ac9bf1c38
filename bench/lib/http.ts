/** JSON over HTTP to the API and the simulator, in the shape test/helpers/onboard.ts drives. */
import { Agent, request as httpRequest } from 'node:http';
import { eventually } from '../../test/helpers/wait';

export interface JsonAnswer {
  status: number;
  body: any;
}

export async function request(
  url: string,
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonAnswer> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const keepAlive = new Agent({ keepAlive: true });

/**
 * POSTs `body` as it is (the bytes a signature covers) over `node:http` with kept-alive
 * connections: the load generator shares the cores with what it measures, and `fetch` costs
 * several times the CPU per request.
 */
export function postRaw(url: string, body: string, headers: Record<string, string>): Promise<JsonAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent: keepAlive,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
          } catch (err) {
            reject(err);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** How often a 503 (Temporal beyond the API's deadline: "retry later") is tried again, 1 s apart. */
export const UNAVAILABLE_RETRIES = 30;

/** Answers the API gave 503 and the caller tried again, as a backend (or Meta) does. */
export async function retryingUnavailable(call: () => Promise<JsonAnswer>, onRetry: () => void): Promise<JsonAnswer> {
  for (let attempt = 1; ; attempt++) {
    const answer = await call();
    if (answer.status !== 503 || attempt > UNAVAILABLE_RETRIES) return answer;
    onRetry();
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

export function stackHttp({
  apiUrl,
  simulatorUrl,
  apiKey,
  pollMs = 250,
  onRetry,
}: {
  apiUrl: string;
  simulatorUrl: string;
  apiKey: string;
  pollMs?: number;
  onRetry?: () => void;
}) {
  const once = (method: string, path: string, body?: unknown) =>
    request(`${apiUrl}${path}`, method, body, { 'x-api-key': apiKey });
  const api = (method: string, path: string, body?: unknown) =>
    onRetry ? retryingUnavailable(() => once(method, path, body), onRetry) : once(method, path, body);
  return {
    api,
    sim: (method: string, path: string, body?: unknown) => request(`${simulatorUrl}/_sim${path}`, method, body),
    onboardingWhen: (phoneNumber: string, accept: (o: any) => boolean, timeoutMs = 600_000) =>
      eventually(async () => (await api('GET', `/onboardings/${phoneNumber}`)).body, accept, { timeoutMs, intervalMs: pollMs }),
  };
}
