import { z } from 'zod';
import { PERMISSIONS, ROLES } from './roles.js';
import { text } from './text.js';

export const LoginBody = z.object({
  username: text(1, 100),
  password: z.string().min(1).max(1024),
});
export type LoginBody = z.input<typeof LoginBody>;

export const RefreshBody = z.object({ refreshToken: text(1, 200) });
export type RefreshBody = z.input<typeof RefreshBody>;

export const TokenPair = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int(),
});
export type TokenPair = z.infer<typeof TokenPair>;

export const Me = z.object({
  username: z.string(),
  role: z.enum(ROLES),
  permissions: z.array(z.enum(PERMISSIONS)),
});
export type Me = z.infer<typeof Me>;
