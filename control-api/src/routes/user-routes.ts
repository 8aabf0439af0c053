import {
  ChangePasswordBody,
  UpdateUserBody,
  User,
  UserList,
  UserListQuery,
  UserParams,
} from '@cybercorp/protocol';
import { defineRoute, type AnyRoute } from './route.js';
import type { RouteServices } from './services.js';

const DEFAULT_USER_PAGE = 100;

export function userRoutes(s: RouteServices): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/users',
      summary: 'Users ordered by username, without their passwords',
      tag: 'admin',
      access: 'users:admin',
      query: UserListQuery,
      responses: { 200: { description: 'One page of users', schema: UserList } },
      handler: async ({ query }) => ({
        status: 200,
        body: await s.users.page(query.limit ?? DEFAULT_USER_PAGE, query.cursor),
      }),
    }),
    defineRoute({
      method: 'get',
      path: '/users/:username',
      summary: 'One user',
      tag: 'admin',
      access: 'users:admin',
      params: UserParams,
      responses: {
        200: { description: 'User', schema: User },
        404: { description: 'not_found' },
      },
      handler: async ({ params }) => ({ status: 200, body: await s.users.get(params.username) }),
    }),
    defineRoute({
      method: 'patch',
      path: '/users/:username',
      summary:
        "Change a user's role, disable or enable it, or set its password; its access tokens stop working at once (a new role takes effect at the next refresh)",
      tag: 'admin',
      access: 'users:admin',
      params: UserParams,
      body: UpdateUserBody,
      responses: {
        200: { description: 'The user as changed', schema: User },
        404: { description: 'not_found' },
        409: { description: 'last_admin: the last enabled admin cannot be disabled or demoted' },
      },
      handler: async ({ params, body, caller }) => ({
        status: 200,
        body: await s.users.update(caller.username, params.username, body),
      }),
    }),
    defineRoute({
      method: 'delete',
      path: '/users/:username',
      summary: 'Delete a user; its sessions and access tokens end at once',
      tag: 'admin',
      access: 'users:admin',
      params: UserParams,
      responses: {
        204: { description: 'Deleted' },
        404: { description: 'not_found' },
        409: { description: 'last_admin: the last enabled admin cannot be deleted' },
      },
      handler: async ({ params, caller }) => {
        await s.users.delete(caller.username, params.username);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/me/password',
      summary:
        "Change the caller's own password, given the current one; every session of the user ends, this one included (log in again)",
      tag: 'auth',
      access: 'authenticated',
      usersOnly: true,
      body: ChangePasswordBody,
      responses: {
        204: { description: 'Changed' },
        403: { description: 'wrong_password; forbidden for a service token' },
      },
      handler: async ({ body, caller }) => {
        await s.users.changeOwnPassword(caller, body.oldPassword, body.newPassword);
        return { status: 204 };
      },
    }),
  ];
}
