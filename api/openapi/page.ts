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

function operationHtml(doc: OpenApiDocument, path: string, method: string, op: OpenApiOperation): string {
  const security = (op.security ?? []).flatMap(Object.keys).map((name) => {
    const scheme = doc.components.securitySchemes[name as keyof OpenApiDocument['components']['securitySchemes']];
    const where = scheme.type === 'http' ? 'Authorization: Bearer' : scheme.name;
    return `<p class="auth">${escape(where)}: ${prose(scheme.description)}</p>`;
  });
  const body = op.requestBody
    ? Object.entries(op.requestBody.content)
        .map(([type, { schema }]) => `<h3>Request body <small>${type}</small></h3>${schemaHtml(schema)}`)
        .join('')
    : '';
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
${parametersHtml(op)}${body}<h3>Responses</h3><ul>${responses}</ul></section>`;
}

/** The document as one HTML page: rendered here, so it needs no script. */
export function docsPage(doc: OpenApiDocument): string {
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
<style>
body { font: 15px/1.45 system-ui, sans-serif; max-width: 960px; margin: 2em auto; padding: 0 1em; color: #222; }
pre { background: #f6f8fa; padding: .6em; overflow-x: auto; font-size: 12px; margin: .3em 0; }
table { border-collapse: collapse; width: 100%; } td, th { border: 1px solid #ddd; padding: .3em; vertical-align: top; text-align: left; }
section { border-top: 1px solid #ddd; padding-top: .5em; } .auth { color: #555; font-size: 13px; }
.method { font-family: monospace; padding: 0 .4em; border-radius: 3px; color: #fff; } .get { background: #2b7bb9; } .post { background: #2f9e44; }
</style></head><body>
<h1>${escape(doc.info.title)} <small>${escape(doc.info.version)}</small></h1>
<p>${prose(doc.info.description)} The document: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${doc.openapi}).</p>
<ul>${index}</ul>
${operations.map(({ path, method, op }) => operationHtml(doc, path, method, op)).join('\n')}
<h2>Schemas</h2>${components}
</body></html>`;
}
