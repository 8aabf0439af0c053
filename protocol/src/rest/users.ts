import { z } from 'zod';
import { ROLES } from './roles.js';

export const CreateUserBody = z.object({
  username: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9_.@-]+$/),
  password: z.string().min(8).max(1024),
  role: z.enum(ROLES),
});
export type CreateUserBody = z.input<typeof CreateUserBody>;

export const User = z.object({
  id: z.uuid(),
  username: z.string(),
  role: z.enum(ROLES),
  createdAt: z.string(),
});
export type User = z.infer<typeof User>;
