import { z } from 'zod';
import { Problem } from '@cybercorp/protocol';
import type { AnyRoute } from './route.js';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    reused: 'inline',
  }) as JsonSchema;
  return rest;
}

function parametersOf(schema: z.ZodType | undefined, location: 'path' | 'query') {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input') as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(object.properties ?? {}).map(([name, s]) => ({
    name,
    in: location,
    required: location === 'path' || (object.required ?? []).includes(name),
    schema: s,
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
  }));
}

const RATE_LIMIT_HEADERS = {
  'Retry-After': {
    description: 'Seconds until the request may be tried again',
    required: true,
    schema: { type: 'integer', minimum: 1 },
  },
  RateLimit: {
    description:
      'The caller\'s quota left in this window (draft-ietf-httpapi-ratelimit-headers), e.g. `"default";r=57;t=23`',
    schema: { type: 'string' },
  },
  'RateLimit-Policy': {
    description:
      'The REST request quota: RATE_LIMIT_PER_MINUTE per principal (per address when anonymous), e.g. `"default";q=100;w=60`',
    schema: { type: 'string' },
  },
};

/** Every operation can meet the request rate limit; logins also have their own limits. */
function tooManyRequests(route: AnyRoute) {
  const description =
    route.path === '/auth/login'
      ? 'Too many requests (`rate_limited`), or too many failed logins for this username (`locked_out`)'
      : 'Too many requests from this caller in the current minute (`rate_limited`)';
  return {
    description,
    headers: {
      'Retry-After': { $ref: '#/components/headers/Retry-After' },
      RateLimit: { $ref: '#/components/headers/RateLimit' },
      'RateLimit-Policy': { $ref: '#/components/headers/RateLimit-Policy' },
    },
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };
}

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function buildOpenApiDocument(routes: readonly AnyRoute[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = '/api/v1' + route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(route.responses)) {
      responses[status] = r.schema
        ? {
            description: r.description,
            content: { 'application/json': { schema: jsonSchema(r.schema, 'output') } },
          }
        : { description: r.description };
    }
    responses['429'] ??= tooManyRequests(route);
    responses.default = {
      description: 'Error (RFC 9457)',
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    };
    paths[path] ??= {};
    paths[path][route.method] = {
      summary: route.summary,
      tags: [route.tag],
      operationId: `${route.method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      ...(route.access === 'public' ? { security: [] } : {}),
      ...(route.access !== 'public' && route.access !== 'authenticated'
        ? { 'x-permission': route.access }
        : {}),
      ...(route.usersOnly ? { 'x-users-only': true } : {}),
      parameters: [...parametersOf(route.params, 'path'), ...parametersOf(route.query, 'query')],
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'CyberCorp control API',
      version,
      description: 'Fleet inventory and audited remote control of processes and windows.',
    },
    servers: [{ url: '/' }],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Problem: jsonSchema(Problem, 'output') },
      headers: RATE_LIMIT_HEADERS,
    },
  };
}
