import { randomUUID } from 'node:crypto';
import type { User } from '@cybercorp/protocol';
import type { UserPrincipal } from '../auth/access-tokens.js';
import type { Role } from '../auth/permissions.js';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import { newPassword } from '../auth/secrets.js';
import type { Clock } from '../infra/clock.js';
import { ApiError } from '../infra/problem.js';
import type { UserChangeOutcome, UserRepository, UserRow } from '../repositories/users.js';
import type { AuditService } from './audit-service.js';
import type { TokenInvalidations } from './token-invalidations.js';

export interface BootstrapResult {
  username: string;
  /** Set only when this start created the admin with a generated password. */
  generatedPassword?: string;
  created: boolean;
}

export interface UserUpdate {
  role?: Role;
  disabled?: boolean;
  password?: string;
}

const publicUser = (row: UserRow): User => ({
  id: row.id,
  username: row.username,
  role: row.role,
  disabled: row.disabledAt !== null,
  createdAt: row.createdAt.toISOString(),
});

/**
 * Users and what administrators and users themselves change about them. Every change is
 * audited, and every change that ends access tokens is reported to the token checks of all
 * instances once it is committed.
 */
export class UserService {
  constructor(
    private readonly deps: {
      users: UserRepository;
      audit: AuditService;
      invalidations: TokenInvalidations;
      clock: Clock;
    },
  ) {}

  async create(username: string, password: string, role: Role): Promise<User> {
    const user = await this.deps.users.insert({
      id: randomUUID(),
      username,
      passwordHash: await hashPassword(password),
      role,
    });
    if (!user) throw new ApiError('conflict', `user ${username} already exists`);
    return publicUser(user);
  }

  /** One page ordered by username; the cursor is the `nextCursor` of the previous page. */
  async page(limit: number, cursor: string | undefined) {
    const rows = await this.deps.users.list({ limit: limit + 1, afterUsername: cursor });
    const items = rows.slice(0, limit).map(publicUser);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? last.username : null };
  }

  async get(username: string): Promise<User> {
    const user = await this.deps.users.findByUsername(username);
    if (!user) throw noSuchUser(username);
    return publicUser(user);
  }

  /**
   * An administrator's change. A role change, disabling and a new password end the user's
   * access tokens at once (it refreshes to get one with its new role); disabling and a new
   * password also end its sessions. The last enabled admin cannot be disabled or demoted.
   */
  async update(actor: string, username: string, update: UserUpdate): Promise<User> {
    const passwordHash =
      update.password === undefined ? undefined : await hashPassword(update.password);
    const outcome = await this.deps.users.change(
      username,
      { role: update.role, disabled: update.disabled, passwordHash },
      new Date(this.deps.clock.now()),
    );
    const actions = [
      ...(update.role !== undefined ? ['user.role_change'] : []),
      ...(update.disabled === true ? ['user.disable'] : []),
      ...(update.disabled === false ? ['user.enable'] : []),
      ...(update.password !== undefined ? ['user.password_reset'] : []),
    ];
    const changed = await this.settle(actor, username, actions, outcome);
    return publicUser(changed);
  }

  /** Deletes the user and its sessions; the last enabled admin cannot be deleted. */
  async delete(actor: string, username: string): Promise<void> {
    await this.settle(actor, username, ['user.delete'], await this.deps.users.delete(username));
  }

  /**
   * The caller's own password change, proven by its current password. Every session of the
   * user ends, this one included: it logs in again with the new password.
   */
  async changeOwnPassword(caller: UserPrincipal, oldPassword: string, password: string) {
    // A service token's caller has no row here (nor a password): only users change theirs.
    const user = await this.deps.users.findById(caller.userId);
    if (!user)
      throw new ApiError('forbidden', 'only a user signed in with a password can change it');
    if (!(await verifyPassword(user.passwordHash, oldPassword))) {
      await this.audit(caller.username, 'user.password_change', user.username, 'wrong_password');
      throw new ApiError('wrong_password', 'the current password is wrong');
    }
    const outcome = await this.deps.users.change(
      user.username,
      { passwordHash: await hashPassword(password) },
      new Date(this.deps.clock.now()),
    );
    await this.settle(caller.username, user.username, ['user.password_change'], outcome);
  }

  /** Creates the first admin when no user exists yet; a generated password is returned once. */
  async bootstrapAdmin(username: string, password: string | undefined): Promise<BootstrapResult> {
    const { users } = this.deps;
    if ((await users.count()) > 0) return { username, created: false };
    const chosen = password ?? newPassword();
    const user = await users.insert({
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

  /** Audits the outcome of a change, ends the user's tokens, or throws the refusal. */
  private async settle(
    actor: string,
    username: string,
    actions: readonly string[],
    outcome: UserChangeOutcome,
  ): Promise<UserRow> {
    switch (outcome.kind) {
      case 'not_found':
        throw noSuchUser(username);
      case 'last_admin':
        for (const action of actions) await this.audit(actor, action, username, 'last_admin');
        throw new ApiError(
          'last_admin',
          `${username} is the last enabled admin; make another user admin first`,
        );
      case 'changed':
        await this.deps.invalidations.userChanged(outcome.before.id);
        for (const action of actions) await this.audit(actor, action, username);
        return outcome.after;
    }
  }

  private audit(actor: string, action: string, username: string, errorCode?: string) {
    return this.deps.audit.record({
      actor,
      action,
      targetType: 'user',
      targetId: username,
      outcome: errorCode ? 'failed' : 'succeeded',
      ...(errorCode ? { errorCode } : {}),
    });
  }
}

const noSuchUser = (username: string) => new ApiError('not_found', `no user ${username}`);
