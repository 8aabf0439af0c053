import { randomUUID } from 'node:crypto';
import type { Role } from '../auth/permissions.js';
import { hashPassword } from '../auth/passwords.js';
import { newPassword } from '../auth/secrets.js';
import { ApiError } from '../infra/problem.js';
import type { UserRepository } from '../repositories/users.js';

export interface BootstrapResult {
  username: string;
  /** Set only when this start created the admin with a generated password. */
  generatedPassword?: string;
  created: boolean;
}

export class UserService {
  constructor(private readonly users: UserRepository) {}

  async create(username: string, password: string, role: Role) {
    const user = await this.users.insert({
      id: randomUUID(),
      username,
      passwordHash: await hashPassword(password),
      role,
    });
    if (!user) throw new ApiError('conflict', `user ${username} already exists`);
    return { id: user.id, username: user.username, role: user.role, createdAt: user.createdAt };
  }

  /** Creates the first admin when no user exists yet; a generated password is returned once. */
  async bootstrapAdmin(username: string, password: string | undefined): Promise<BootstrapResult> {
    if ((await this.users.count()) > 0) return { username, created: false };
    const chosen = password ?? newPassword();
    const user = await this.users.insert({
      id: randomUUID(),
      username,
      passwordHash: await hashPassword(chosen),
      role: 'admin',
    });
    if (!user) return { username, created: false }; // another instance won the race
    return password
      ? { username, created: true }
      : { username, created: true, generatedPassword: chosen };
  }
}
