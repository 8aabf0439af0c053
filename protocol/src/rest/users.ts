import { z } from 'zod';
import { ROLES } from './roles.js';
import { queryInteger } from './text.js';

const username = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.@-]+$/);
const password = z.string().min(8).max(1024);

export const CreateUserBody = z.object({
  username,
  password,
  role: z.enum(ROLES),
});
export type CreateUserBody = z.input<typeof CreateUserBody>;

export const User = z.object({
  id: z.uuid(),
  username: z.string(),
  role: z.enum(ROLES),
  /** A disabled user cannot log in, refresh, or use the access tokens it holds. */
  disabled: z.boolean(),
  createdAt: z.string(),
});
export type User = z.infer<typeof User>;

export const UserParams = z.object({ username });
export type UserParams = z.input<typeof UserParams>;

export const UserListQuery = z.strictObject({
  limit: queryInteger(1, 500).optional(),
  cursor: username.optional().describe('nextCursor of the previous page'),
});
export type UserListQuery = z.input<typeof UserListQuery>;

export const UserList = z.object({ items: z.array(User), nextCursor: z.string().nullable() });
export type UserList = z.infer<typeof UserList>;

/**
 * An administrator's change to a user; absent fields stay as they are. Each change ends the
 * user's access tokens at once; disabling and a new password also end its sessions.
 */
export const UpdateUserBody = z.strictObject({
  role: z.enum(ROLES).optional(),
  disabled: z.boolean().optional(),
  password: password.optional().describe('a new password set by an administrator'),
});
export type UpdateUserBody = z.input<typeof UpdateUserBody>;

/** The caller's own password change: the current password proves it is the user. */
export const ChangePasswordBody = z.strictObject({
  oldPassword: z.string().min(1).max(1024),
  newPassword: password,
});
export type ChangePasswordBody = z.input<typeof ChangePasswordBody>;
