/**
 * What `npm start` prints, as plain text, once the whole stack answers: where each part is, the
 * key and token to use, and what to try next. A secret is shown only when it is the development
 * value published in this repository (COEXIST_ENV=local with its default); any other is named by
 * its variable, never printed.
 */
import { configSchema, localApiUrl, type Config } from '../config';

export interface StartedStack {
  temporalAddress: string;
  /** The dev server `npm start` runs (unset with TEMPORAL_ADDRESS). */
  devServer?: { uiUrl: string; dbFile: string; codecRelay: boolean };
  simulatorUrl?: string;
}

const published = configSchema.parse({});

/** The development value, or where the real one is. */
function shown(config: Config, value: string, variable: string, published: string): string {
  return config.COEXIST_ENV === 'local' && value === published ? value : `(the value in ${variable})`;
}

export function startBanner(config: Config, stack: StartedStack): string {
  const api = localApiUrl(config);
  const apiKey = shown(config, config.BACKEND_API_KEY, 'BACKEND_API_KEY', published.BACKEND_API_KEY);
  const opsToken = shown(config, config.OPS_TOKENS[0]!.token, 'OPS_TOKENS, after the colon', published.OPS_TOKENS[0]!.token);
  const rows: [string, string, string?][] = [
    ['API', api, `header X-Api-Key: ${apiKey}`],
    ['API docs', `${api}/docs`],
    ['Ops page', `${api}/ops`, `sign in with the ops token: ${opsToken}`],
    ['Temporal', stack.temporalAddress, stack.devServer ? `dev server, state in ${stack.devServer.dbFile}` : 'TEMPORAL_ADDRESS'],
  ];
  if (stack.devServer)
    rows.push([
      'Web UI',
      stack.devServer.uiUrl,
      stack.devServer.codecRelay ? 'payloads shown decrypted' : `codec: ${api}/codec (ops token needed)`,
    ]);
  if (stack.simulatorUrl) rows.push(['Simulator', stack.simulatorUrl, "Meta's Graph API, simulated"]);
  const width = Math.max(...rows.map(([, url]) => url.length));
  const phone = '+15550783881';
  const workflowPage = stack.devServer
    ? `${stack.devServer.uiUrl}/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(`onboarding:${phone}`)}`
    : undefined;
  return [
    '',
    `coexist is running (COEXIST_ENV=${config.COEXIST_ENV})`,
    '',
    ...rows.map(([name, url, note]) => `  ${name.padEnd(10)} ${note ? `${url.padEnd(width)}   ${note}` : url}`),
    '',
    'Next:',
    `  1. npm run demo               one whole onboarding through the API and the simulator, every transition printed`,
    `  2. npx coexist ops list       the onboardings as an operator sees them (or the ops page above)`,
    `  3. npm run scenario           the scenario files; play one with npm run scenario -- test/scenarios/<file>`,
    '',
    `Start one by hand: curl -s -X POST ${api}/onboardings -H 'content-type: application/json' \\`,
    `  -H ${apiKey === config.BACKEND_API_KEY ? `'x-api-key: ${apiKey}'` : '"x-api-key: $BACKEND_API_KEY"'} -d '{"phoneNumber":"${phone}"}'`,
    ...(workflowPage ? [`and open ${workflowPage}`] : []),
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}
