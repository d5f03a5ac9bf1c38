import { loadConfig, type Config } from '../config';
import { createSimulator } from './app';

/** The simulator as `npm start` runs it: webhooks go to this stack's API. */
export async function startSimulatorServer(config: Config) {
  const simulator = createSimulator({
    appId: config.META_APP_ID,
    appSecret: config.META_APP_SECRET,
    webhookUrl: `http://${config.API_HOST === '0.0.0.0' ? '127.0.0.1' : config.API_HOST}:${config.API_PORT}/webhooks/meta`,
  });
  return simulator.listen(config.SIMULATOR_PORT);
}

if (require.main === module) {
  startSimulatorServer(loadConfig())
    .then(({ url }) => console.log(JSON.stringify({ msg: 'Meta Graph API simulator listening', url })))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
