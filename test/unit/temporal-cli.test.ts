/**
 * `npm run temporal` gives the Temporal CLI this stack's address and namespace, and the API's
 * codec with an ops token only while the API answers (else the CLI would fail on every payload).
 */
import { loadConfig } from '../../config';
import { temporalCliEnvironment } from '../../scripts/temporal';

test("the dev server's port, or TEMPORAL_ADDRESS; the namespace; the codec only while the API answers", () => {
  const local = loadConfig({ TEMPORAL_DEV_SERVER_PORT: '7330', API_PORT: '3330', TEMPORAL_NAMESPACE: 'coexist' });
  expect(temporalCliEnvironment(local, true)).toEqual({
    TEMPORAL_ADDRESS: '127.0.0.1:7330',
    TEMPORAL_NAMESPACE: 'coexist',
    TEMPORAL_CODEC_ENDPOINT: 'http://127.0.0.1:3330/codec',
    TEMPORAL_CODEC_AUTH: 'Bearer local-ops-token-change-me',
  });
  expect(temporalCliEnvironment(local, false)).toEqual({ TEMPORAL_ADDRESS: '127.0.0.1:7330', TEMPORAL_NAMESPACE: 'coexist' });
  const remote = loadConfig({
    TEMPORAL_ADDRESS: 'temporal.internal:7233',
    API_HOST: '0.0.0.0',
    OPS_TOKENS: 'eve:eve-ops-token-000001',
  });
  expect(temporalCliEnvironment(remote, true)).toMatchObject({
    TEMPORAL_ADDRESS: 'temporal.internal:7233',
    TEMPORAL_CODEC_ENDPOINT: 'http://127.0.0.1:3000/codec',
    TEMPORAL_CODEC_AUTH: 'Bearer eve-ops-token-000001',
  });
});
