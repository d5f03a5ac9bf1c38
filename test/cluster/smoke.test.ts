import { startCluster, type Cluster } from './cluster';
let c: Cluster;
beforeAll(async () => {
  c = await startCluster({ stageBudgets: { linking: 5000 } });
}, 600_000);
afterAll(async () => c?.stop());
test('up', async () => {
  console.log(c.schemaLog.slice(-2000), JSON.stringify(c.setupResult));
  console.log(c.temporalCli(['operator', 'search-attribute', 'list']));
  expect((await c.api('GET', '/health')).status).toBe(200);
});
