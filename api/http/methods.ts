import type { Express, RequestHandler } from 'express';
import { ApiError } from './errors';

/** A layer of express's router stack: a route, or a router mounted at the root with routes of its own. */
interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
}

export interface AppRoute {
  method: string;
  /** As express registers it, e.g. `/onboardings/:phoneNumber`. */
  path: string;
}

/** `method path` of every route of the app, through the routers mounted on it (all at the root). */
export function appRoutes(app: Express): AppRoute[] {
  const walk = (stack: Layer[]): AppRoute[] =>
    stack.flatMap((layer) => {
      if (layer.route) return Object.keys(layer.route.methods).map((method) => ({ method, path: layer.route!.path }));
      return layer.handle.stack ? walk(layer.handle.stack) : [];
    });
  return walk(app.router.stack as unknown as Layer[]);
}

/** As express matches a route path: case-insensitive, a trailing slash allowed, a parameter one segment. */
function matcher(path: string): RegExp {
  const pattern = path
    .split(/(:\w+)/)
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${pattern}/?$`, 'i');
}

/**
 * Mounted before the routes (so before authentication and body checks): a path the app has, asked
 * with a method it does not have there, is 405 with `Allow`. The routes are read from the app on
 * the first request, once every router is mounted. OPTIONS goes on (the codec's CORS preflight).
 */
export function methodNotAllowed(app: Express): RequestHandler {
  let routes: { match: RegExp; methods: Set<string> }[] | undefined;
  return (req, res, next) => {
    routes ??= [...new Set(appRoutes(app).map((r) => r.path))].map((path) => ({
      match: matcher(path),
      methods: new Set(
        appRoutes(app)
          .filter((r) => r.path === path)
          .map((r) => r.method.toUpperCase()),
      ),
    }));
    if (req.method === 'OPTIONS') {
      next();
      return;
    }
    const allowed = new Set(routes.filter((r) => r.match.test(req.path)).flatMap((r) => [...r.methods]));
    if (allowed.has('GET')) allowed.add('HEAD');
    if (allowed.size === 0 || allowed.has(req.method)) {
      next();
      return;
    }
    const allow = [...allowed].sort().join(', ');
    res.set('allow', allow);
    next(new ApiError(405, 'method_not_allowed', `${req.method.slice(0, 20)} is not allowed here; allowed: ${allow}`));
  };
}
