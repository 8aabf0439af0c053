import { LoginBody, Me, RefreshBody, TokenPair } from '@cybercorp/protocol';
import { permissionsOf } from '../auth/permissions.js';
import { defineRoute, type AnyRoute } from './route.js';
import type { RouteServices } from './services.js';

export function authRoutes(s: RouteServices): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/auth/login',
      summary: 'Exchange username and password for an access and a refresh token',
      tag: 'auth',
      access: 'public',
      body: LoginBody,
      responses: { 200: { description: 'Token pair', schema: TokenPair } },
      handler: async ({ body, clientIp }) => ({
        status: 200,
        body: await s.auth.login(body.username, body.password, clientIp),
      }),
    }),
    defineRoute({
      method: 'post',
      path: '/auth/refresh',
      summary: 'Rotate a refresh token; reusing one revokes its whole session',
      tag: 'auth',
      access: 'public',
      body: RefreshBody,
      responses: { 200: { description: 'New token pair', schema: TokenPair } },
      handler: async ({ body }) => ({ status: 200, body: await s.auth.refresh(body.refreshToken) }),
    }),
    defineRoute({
      method: 'post',
      path: '/auth/logout',
      summary: 'Revoke the session the refresh token belongs to',
      tag: 'auth',
      access: 'authenticated',
      body: RefreshBody,
      responses: { 204: { description: 'Logged out' } },
      handler: async ({ body, caller }) => {
        await s.auth.logout(caller, body.refreshToken);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/me',
      summary: 'The caller, its role and permissions',
      tag: 'auth',
      access: 'authenticated',
      responses: { 200: { description: 'Current user', schema: Me } },
      handler: async ({ caller }) => ({
        status: 200,
        body: {
          username: caller.username,
          role: caller.role,
          permissions: permissionsOf(caller.role),
        },
      }),
    }),
  ];
}
