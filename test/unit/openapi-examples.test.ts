/**
 * Every route has an example (api/openapi/examples.ts), and each example is a request the route
 * itself accepts: its path parameters, query and body parse with the route's own schemas.
 */
import { EXAMPLES } from '../../api/openapi/examples';
import { ROUTES } from '../../api/openapi/document';

test('every route has an example, and no example names a route that does not exist', () => {
  expect(Object.keys(EXAMPLES).sort()).toEqual(ROUTES.map((r) => r.operationId).sort());
});

test.each(ROUTES.map((r) => [r.operationId, r] as const))('%s: its example parses with its schemas', (id, route) => {
  const example = EXAMPLES[id]!;
  expect(example.body !== undefined).toBe(route.body !== undefined);
  if (route.body) expect(route.body.safeParse(example.body).error).toBeUndefined();
  if (route.params) expect(route.params.safeParse(example.params).error).toBeUndefined();
  else expect(example.params).toBeUndefined();
  if (route.query) expect(route.query.safeParse(example.query ?? {}).error).toBeUndefined();
  else expect(example.query).toBeUndefined();
});
