/**
 * `npm start`'s banner: every URL, the key and token a newcomer needs, three next steps; a secret
 * only when it is the development value published in this repository, never another.
 */
import { loadConfig } from '../../config';
import { startBanner } from '../../scripts/banner';

const ports = { API_PORT: '3330', TEMPORAL_DEV_SERVER_PORT: '7330', TEMPORAL_DEV_UI_PORT: '8330', SIMULATOR_PORT: '4330' };
const devStack = {
  temporalAddress: '127.0.0.1:7330',
  devServer: { uiUrl: 'http://127.0.0.1:8330', dbFile: '.data/temporal.sqlite', codecRelay: true },
  simulatorUrl: 'http://127.0.0.1:4330',
};

test('locally: each URL on its configured port, the development key and ops token, three next steps', () => {
  const banner = startBanner(loadConfig(ports), devStack);
  expect(banner).toMatch(/^ {2}API +http:\/\/127\.0\.0\.1:3330 +header X-Api-Key: local-backend-api-key$/m);
  expect(banner).toMatch(/^ {2}API docs +http:\/\/127\.0\.0\.1:3330\/docs$/m);
  expect(banner).toMatch(
    /^ {2}Ops page +http:\/\/127\.0\.0\.1:3330\/ops +sign in with the ops token: local-ops-token-change-me$/m,
  );
  expect(banner).toMatch(/^ {2}Web UI +http:\/\/127\.0\.0\.1:8330 +payloads shown decrypted$/m);
  expect(banner).toMatch(/^ {2}Simulator +http:\/\/127\.0\.0\.1:4330 /m);
  expect(banner).toMatch(/^ {2}Temporal +127\.0\.0\.1:7330 /m);
  expect(banner.match(/^ {2}\d\. /gm)).toHaveLength(3);
  expect(banner).toContain('http://127.0.0.1:8330/namespaces/default/workflows/onboarding%3A%2B15550783881');
});

test('secrets of your own are named by their variable, never printed, locally and in production', () => {
  const own = { BACKEND_API_KEY: 'my-own-backend-key-0001', OPS_TOKENS: 'dana:dana-ops-token-00001' };
  const local = startBanner(loadConfig({ ...ports, ...own }), devStack);
  const production = startBanner(
    loadConfig({
      COEXIST_ENV: 'production',
      TEMPORAL_ADDRESS: 'temporal:7233',
      DATABASE_URL: 'postgres://coexist:pg-password-0001@db:5432/coexist',
      BACKEND_CALLBACK_URL: 'https://backend.example/callbacks',
      BACKEND_CALLBACK_SECRET: 'callback-secret-0001',
      TOKEN_SEALING_KEY: Buffer.alloc(32, 1).toString('base64'),
      PAYLOAD_CODEC_KEYS: `2026-12:${Buffer.alloc(32, 2).toString('base64')}`,
      META_GRAPH_BASE_URL: 'https://graph.facebook.com',
      META_APP_ID: '123',
      META_APP_SECRET: 'meta-app-secret-0001',
      META_WEBHOOK_VERIFY_TOKEN: 'verify-token-0001',
      ...own,
    }),
    { temporalAddress: 'temporal:7233' },
  );
  for (const banner of [local, production]) {
    expect(banner).not.toContain('my-own-backend-key-0001');
    expect(banner).not.toContain('dana-ops-token-00001');
    expect(banner).toContain('header X-Api-Key: (the value in BACKEND_API_KEY)');
    expect(banner).toContain('"x-api-key: $BACKEND_API_KEY"');
  }
  expect(production).toContain('coexist is running (COEXIST_ENV=production)');
  expect(production).not.toMatch(/Web UI|Simulator/);
});
