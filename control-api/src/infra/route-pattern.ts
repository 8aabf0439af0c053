import type { Request, Response } from 'express';

/** The Express route pattern a request matched (`/api/v1/agents/:agentId`), never the raw URL. */
export function routePattern(req: Request, res: Response): string {
  const remembered: unknown = res.locals.routePattern;
  if (typeof remembered === 'string') return remembered;
  const routePath: unknown = (req.route as { path?: unknown } | undefined)?.path;
  return typeof routePath === 'string' ? `${req.baseUrl}${routePath}` : 'unmatched';
}
