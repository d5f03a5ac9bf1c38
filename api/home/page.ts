import type { Config } from '../../config';

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Where the Temporal Web UI is: the first origin allowed to call the codec (CODEC_CORS_ORIGINS is
 * the Web UI's origin), else, with no TEMPORAL_ADDRESS, the dev server's UI that `npm start` runs.
 */
export function webUiUrl(
  config: Pick<Config, 'CODEC_CORS_ORIGINS' | 'TEMPORAL_ADDRESS' | 'TEMPORAL_DEV_UI_PORT'>,
): string | undefined {
  return (
    config.CODEC_CORS_ORIGINS?.[0] ?? (config.TEMPORAL_ADDRESS ? undefined : `http://127.0.0.1:${config.TEMPORAL_DEV_UI_PORT}`)
  );
}

/** `GET /`: a small page linking the API docs, the ops page and the Web UI; no script, style from /docs/assets. */
export function landingPage(version: string, webUi: string | undefined): string {
  const links: [string, string, string][] = [
    ['/docs', 'API docs', 'every route with an example and a curl command to copy; the document is /openapi.json'],
    ['/ops', 'Ops page', 'onboardings, what each waits for, repairs, and the funnel (sign in with an ops token)'],
    ...(webUi
      ? [[webUi, 'Temporal Web UI', 'the workflows behind each onboarding and conversation'] as [string, string, string]]
      : []),
    ['/health', 'Health', 'liveness, and whether Temporal can be reached'],
    ['/metrics', 'Metrics', 'Prometheus metrics'],
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>coexist</title>
<link rel="stylesheet" href="/docs/assets/docs.css"></head><body>
<h1>coexist <small>${escape(version)}</small></h1>
<p>WhatsApp Business Coexistence: onboardings, conversations, ops and Meta webhooks.</p>
<ul>
${links.map(([href, name, what]) => `<li><a href="${escape(href)}">${escape(name)}</a>: ${escape(what)}</li>`).join('\n')}
</ul>
</body></html>`;
}
