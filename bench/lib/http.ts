/** JSON over HTTP to the API and the simulator, in the shape test/helpers/onboard.ts drives. */
import { eventually } from '../../test/helpers/wait';

export interface JsonAnswer {
  status: number;
  body: any;
}

async function request(url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonAnswer> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

export function stackHttp({ apiUrl, simulatorUrl, apiKey, pollMs = 250 }: { apiUrl: string; simulatorUrl: string; apiKey: string; pollMs?: number }) {
  const api = (method: string, path: string, body?: unknown) => request(`${apiUrl}${path}`, method, body, { 'x-api-key': apiKey });
  return {
    api,
    sim: (method: string, path: string, body?: unknown) => request(`${simulatorUrl}/_sim${path}`, method, body),
    onboardingWhen: (phoneNumber: string, accept: (o: any) => boolean, timeoutMs = 600_000) =>
      eventually(async () => (await api('GET', `/onboardings/${phoneNumber}`)).body, accept, { timeoutMs, intervalMs: pollMs }),
  };
}
