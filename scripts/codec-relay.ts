/**
 * The dev server's Web UI decrypts payloads through a codec endpoint, and the API's `/codec` wants
 * an ops token, which the dev server's Web UI cannot be configured to send (its codec setting takes
 * an endpoint only; "include credentials" is a per-browser toggle). So, with COEXIST_ENV=local
 * only, `npm start` puts this relay between them: on loopback, it answers the Web UI's origin
 * (CORS) and forwards `/encode` and `/decode` to the API's codec with the first of OPS_TOKENS.
 * The first workflow page a newcomer opens then shows decoded payloads, with no setting touched.
 *
 * It adds no access a local user lacks: the local Web UI is open to anyone on this machine anyway.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface CodecRelay {
  /** The codec endpoint for the Web UI (`--ui-codec-endpoint`). */
  url: string;
  close(): Promise<void>;
}

const MAX_BODY = 8 << 20;

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        done(undefined);
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => done(Buffer.concat(chunks)));
    req.on('error', fail);
  });
}

export async function startCodecRelay({
  apiCodecUrl,
  token,
  origins,
}: {
  /** The API's codec, e.g. http://127.0.0.1:3000/codec. */
  apiCodecUrl: string;
  token: string;
  /** The Web UI's origins. */
  origins: string[];
}): Promise<CodecRelay> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers.origin;
    if (origin && origins.includes(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('vary', 'origin');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'content-type, x-namespace',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    const direction = /^\/(encode|decode)$/.exec((req.url ?? '').split('?')[0]!)?.[1];
    if (req.method !== 'POST' || !direction) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('POST /encode or /decode\n');
      return;
    }
    const body = await readBody(req);
    if (body === undefined) {
      res.writeHead(413, { 'content-type': 'text/plain' }).end('payloads too large\n');
      return;
    }
    try {
      const answer = await fetch(`${apiCodecUrl}/${direction}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          ...(typeof req.headers['x-namespace'] === 'string' ? { 'x-namespace': req.headers['x-namespace'] } : {}),
        },
        body,
        signal: AbortSignal.timeout(30_000),
      });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    } catch (err) {
      res
        .writeHead(502, { 'content-type': 'text/plain' })
        .end(`the API's codec at ${apiCodecUrl} does not answer: ${(err as Error).message}\n`);
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
