import { configSchema } from '../../config';
import type { JsonSchema, OpenApiDocument, OpenApiOperation } from './document';

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** Descriptions are CommonMark; of it they use only `code`. */
const prose = (text: string) => escape(text).replace(/`([^`]+)`/g, '<code>$1</code>');

/** Pretty JSON whose `$ref`s to components are links to them on the page. */
function schemaHtml(schema: JsonSchema): string {
  const quote = escape('"');
  return `<pre>${escape(JSON.stringify(schema, null, 2)).replace(
    new RegExp(`${quote}#/components/schemas/(\\w+)${quote}`, 'g'),
    (_m, name: string) => `<a href="#schema-${name}">${quote}#/components/schemas/${name}${quote}</a>`,
  )}</pre>`;
}

function parametersHtml(op: OpenApiOperation): string {
  if (!op.parameters?.length) return '';
  const rows = op.parameters
    .map(
      (p) =>
        `<tr><td><code>${escape(p.name)}</code></td><td>${p.in}</td><td>${p.required ? 'yes' : 'no'}</td><td>${schemaHtml(p.schema)}</td></tr>`,
    )
    .join('');
  return `<h3>Parameters</h3><table><tr><th>name</th><th>in</th><th>required</th><th>schema</th></tr>${rows}</table>`;
}

/** The local defaults of the secrets the curl commands read (config.ts; refused in production). */
const LOCAL_SECRETS = (() => {
  const shape = configSchema.shape;
  return [
    `export BACKEND_API_KEY=${shape.BACKEND_API_KEY.parse(undefined)}`,
    `OPS_TOKEN=${shape.OPS_TOKENS.parse(undefined)[0]!.token}`,
    `META_APP_SECRET=${shape.META_APP_SECRET.parse(undefined)}`,
  ].join(' ');
})();

/** `'…'` for a POSIX shell. */
const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * A curl command for the operation's example, against `origin`; the secrets come from the shell
 * (BACKEND_API_KEY, OPS_TOKEN, META_APP_SECRET), and a webhook body is signed as Meta signs it.
 */
export function curlFor(origin: string, path: string, method: string, op: OpenApiOperation): string {
  const params = op.parameters ?? [];
  const filled = path.replace(/\{(\w+)\}/g, (_m, name: string) =>
    encodeURIComponent(params.find((p) => p.in === 'path' && p.name === name)?.example ?? `<${name}>`),
  );
  const query = new URLSearchParams(
    params.filter((p) => p.in === 'query' && p.example !== undefined).map((p): [string, string] => [p.name, p.example!]),
  ).toString();
  const url = `${origin}${filled}${query ? `?${query}` : ''}`;
  const schemes = (op.security ?? []).flatMap(Object.keys);
  const body = op.requestBody?.content['application/json']?.example;
  const lines = [`curl -sS${method === 'get' ? '' : ` -X ${method.toUpperCase()}`} ${shellQuote(url)}`];
  if (schemes.includes('backendApiKey')) lines.push(`-H "X-Api-Key: $BACKEND_API_KEY"`);
  if (schemes.includes('opsToken')) lines.push(`-H "Authorization: Bearer $OPS_TOKEN"`);
  if (body === undefined) return lines.join(' \\\n  ');
  lines.push(`-H 'content-type: application/json'`);
  if (schemes.includes('metaSignature')) {
    lines.push(
      `-H "X-Hub-Signature-256: sha256=$(printf %s "$body" | openssl dgst -sha256 -hmac "$META_APP_SECRET" -r | cut -d' ' -f1)"`,
      `--data "$body"`,
    );
    return `body=${shellQuote(JSON.stringify(body))}\n${lines.join(' \\\n  ')}`;
  }
  lines.push(`--data ${shellQuote(JSON.stringify(body))}`);
  return lines.join(' \\\n  ');
}

function operationHtml(doc: OpenApiDocument, origin: string, path: string, method: string, op: OpenApiOperation): string {
  const security = (op.security ?? []).flatMap(Object.keys).map((name) => {
    const scheme = doc.components.securitySchemes[name as keyof OpenApiDocument['components']['securitySchemes']];
    const where = scheme.type === 'http' ? 'Authorization: Bearer' : scheme.name;
    return `<p class="auth">${escape(where)}: ${prose(scheme.description)}</p>`;
  });
  const body = op.requestBody
    ? Object.entries(op.requestBody.content)
        .map(
          ([type, { schema, example }]) =>
            `<h3>Request body <small>${type}</small></h3>${schemaHtml(schema)}` +
            (example !== undefined
              ? `<h4>Example</h4><pre class="example">${escape(JSON.stringify(example, null, 2))}</pre>`
              : ''),
        )
        .join('')
    : '';
  const curl = `<h3>Try it</h3><pre class="curl">${escape(curlFor(origin, path, method, op))}</pre>`;
  const responses = Object.entries(op.responses)
    .map(([status, r]) => {
      const schemas = Object.entries(r.content ?? {}).map(
        ([type, { schema }]) => `<details><summary>${type}</summary>${schemaHtml(schema)}</details>`,
      );
      return `<li><b>${status}</b> ${prose(r.description)}${schemas.join('')}</li>`;
    })
    .join('');
  return `<section id="${op.operationId}">
<h2><span class="method ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code></h2>
<p>${escape(op.summary)} <small>(${op.operationId})</small></p>${security.join('')}
${parametersHtml(op)}${body}${curl}<h3>Responses</h3><ul>${responses}</ul></section>`;
}

/** The document as one HTML page: rendered here, so it needs no script; its style is a file beside it. */
export function docsPage(doc: OpenApiDocument, origin: string): string {
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op: op as OpenApiOperation })),
  );
  const index = operations
    .map(
      ({ path, method, op }) =>
        `<li><a href="#${op.operationId}">${method.toUpperCase()} ${escape(path)}</a> ${escape(op.summary)}</li>`,
    )
    .join('');
  const components = Object.entries(doc.components.schemas)
    .map(([name, schema]) => `<section id="schema-${name}"><h3>${name}</h3>${schemaHtml(schema)}</section>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(doc.info.title)} API</title>
<link rel="stylesheet" href="/docs/assets/docs.css"></head><body>
<h1>${escape(doc.info.title)} <small>${escape(doc.info.version)}</small></h1>
<p>${prose(doc.info.description)} The document: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${doc.openapi}).</p>
<p>Every operation has an example and a curl command to copy. They read the secrets from your shell; with <code>npm start</code>:</p>
<pre class="curl">${escape(LOCAL_SECRETS)}</pre>
<ul>${index}</ul>
${operations.map(({ path, method, op }) => operationHtml(doc, origin, path, method, op)).join('\n')}
<h2>Schemas</h2>${components}
</body></html>`;
}
