import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { UserPrincipal } from '../auth/access-tokens.js';
import { hasPermission, type Permission } from '../auth/permissions.js';
import type { Authenticator } from '../auth/caller-authenticator.js';
import { GRAFANA_USER_HEADER } from '../auth/service-caller.js';
import { clientIp, type TrustedProxies } from '../infra/client-ip.js';
import { ApiError } from '../infra/problem.js';
import type { RequestRateLimiter } from '../infra/request-rate-limiter.js';
import type { AuditService } from '../services/audit-service.js';

export const MAX_JSON_BODY = '1mb';

/** Who may call a route: callers holding a permission, any authenticated caller, or anyone. */
export type Access = Permission | 'authenticated' | 'public';

/**
 * What a handler gets: the request as the route's schemas accepted it, and who sent it. No
 * Express objects: answers are the returned RouteResult, so handlers stay plain functions.
 */
export interface RouteContext<P, Q, B, A extends Access = Access> {
  params: P;
  query: Q;
  body: B;
  /** The authenticated caller; there is none only on `public` routes. */
  caller: A extends 'public' ? undefined : UserPrincipal;
  /** The address the request comes from (infra/client-ip.ts decides it). */
  clientIp: string;
}

export interface RouteResult {
  status: number;
  body?: unknown;
}

/** A request before validation: what the audit target of a refused action is read from. */
export interface RawRequest {
  params: Record<string, unknown>;
  body: unknown;
}

/** What an audited action is about, derived from the raw request so refusals can be logged too. */
export interface AuditTarget {
  action: string;
  targetType: string;
  targetId: string;
  agentId: string;
  reason: string | null;
}

export interface RouteSpec<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
  A extends Access = Access,
> {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** Express path below /api/v1, e.g. `/agents/:agentId`. */
  path: string;
  summary: string;
  tag: string;
  /** The permission the caller needs; `authenticated` = any user; `public` = no token. */
  access: A;
  /**
   * Only callers signed in as a user (not a service token acting for Grafana users), e.g. for
   * the caller's own password; documented as `x-users-only` and checked by the service.
   */
  usersOnly?: true;
  params?: P;
  query?: Q;
  body?: B;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  /** Actions name their audit target, so that RBAC refusals are audited as well. */
  auditTarget?(request: RawRequest): AuditTarget;
  handler(ctx: RouteContext<z.output<P>, z.output<Q>, z.output<B>, A>): Promise<RouteResult>;
}

export type AnyRoute = RouteSpec<z.ZodType, z.ZodType, z.ZodType, Access>;

export function defineRoute<
  P extends z.ZodType,
  Q extends z.ZodType,
  B extends z.ZodType,
  A extends Access,
>(spec: RouteSpec<P, Q, B, A>): AnyRoute {
  return spec;
}

export interface RouteDeps {
  authenticator: Authenticator;
  audit: AuditService;
  /** Counts each request of its principal, once it is known; none: no rate limit. */
  rateLimiter?: RequestRateLimiter;
  /** Whose X-Forwarded-For names the client (TRUSTED_PROXIES). */
  trustedProxies: TrustedProxies;
}

/** Mounts each route with its auth, permission check, validation and audit of refusals. */
export function mountRoutes(router: Router, routes: readonly AnyRoute[], deps: RouteDeps): void {
  const json = express.json({ limit: MAX_JSON_BODY, type: 'application/json', strict: true });
  for (const route of routes) {
    const handler = async (req: Request, res: Response) => {
      let caller: UserPrincipal | undefined;
      if (route.access !== 'public') {
        const user = await deps.authenticator
          .authenticate(req.headers.authorization, req.headersDistinct[GRAFANA_USER_HEADER])
          .catch(async (error: unknown) => {
            // Refused credentials count against the address, so guessing tokens is limited too.
            await deps.rateLimiter?.admit(req, res, undefined);
            throw error;
          });
        await deps.rateLimiter?.admit(req, res, user);
        if (route.access !== 'authenticated' && !hasPermission(user.role, route.access)) {
          if (route.auditTarget) {
            await deps.audit.record({
              ...route.auditTarget({ params: req.params, body: req.body as unknown }),
              actor: user.username,
              outcome: 'denied',
              errorCode: 'forbidden',
            });
          }
          throw new ApiError('forbidden', `role ${user.role} lacks the ${route.access} permission`);
        }
        caller = user;
      }
      if (route.body && !req.is('application/json')) {
        throw new ApiError('unsupported_media_type', 'the request body must be application/json');
      }
      const params = parse(route.params, req.params, 'path');
      const query = parse(route.query, req.query, 'query');
      const body = parse(route.body, req.body, 'body');
      const result = await route.handler({
        params,
        query,
        body,
        caller,
        clientIp: clientIp(req, deps.trustedProxies),
      });
      if (result.body === undefined) res.status(result.status).end();
      else res.status(result.status).json(result.body);
    };
    // Remembered before body parsing so that even its errors are counted under the route.
    const rememberRoute = (req: Request, res: Response, next: () => void) => {
      res.locals.routePattern = `${req.baseUrl}${route.path}`;
      next();
    };
    // Anonymous calls are counted by address before their body is even read.
    const limitAnonymous =
      route.access === 'public' && deps.rateLimiter ? [deps.rateLimiter.byAddress()] : [];
    if (route.body)
      router[route.method](route.path, rememberRoute, ...limitAnonymous, json, handler);
    else router[route.method](route.path, rememberRoute, ...limitAnonymous, handler);
  }
  mountMethodNotAllowed(router, routes);
}

/** A known path asked with a method it does not serve: 405 with `Allow` (RFC 9110), not 404. */
function mountMethodNotAllowed(router: Router, routes: readonly AnyRoute[]): void {
  const methodsByPath = new Map<string, Set<string>>();
  for (const route of routes) {
    const methods = methodsByPath.get(route.path) ?? new Set<string>();
    methods.add(route.method.toUpperCase());
    if (route.method === 'get') methods.add('HEAD');
    methodsByPath.set(route.path, methods);
  }
  for (const [path, methods] of methodsByPath) {
    const allow = [...methods, 'OPTIONS'].join(', ');
    router.all(path, (req: Request, res: Response) => {
      res.locals.routePattern = `${req.baseUrl}${path}`;
      res.setHeader('Allow', allow);
      if (req.method === 'OPTIONS') {
        res.status(204).end();
        return;
      }
      throw new ApiError(
        'method_not_allowed',
        `${req.method} is not allowed here; allowed: ${allow}`,
      );
    });
  }
}

function parse(schema: z.ZodType | undefined, value: unknown, where: string): unknown {
  if (!schema) return undefined;
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw validationError(result.error, where, value);
}

/** A present but unknown `action` is its own stable code; any other invalid field is validation_failed. */
export function validationError(error: z.ZodError, where: string, input?: unknown): ApiError {
  const action = (input as { action?: unknown } | null | undefined)?.action;
  const unknownAction = error.issues.find(
    (i) =>
      where === 'body' &&
      action !== undefined &&
      i.path.length === 1 &&
      i.path[0] === 'action' &&
      i.code === 'invalid_value',
  );
  if (unknownAction) return new ApiError('unknown_action', `unknown action: ${String(action)}`);
  const details = error.issues.map(
    (i) => `${where}${i.path.length ? '.' + i.path.join('.') : ''}: ${i.message}`,
  );
  return new ApiError('validation_failed', details.join('; '), {
    errors: error.issues.map((i) => ({ in: where, path: i.path.map(String), message: i.message })),
  });
}
