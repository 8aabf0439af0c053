import { randomUUID } from 'node:crypto';
import { SERVICE_TOKEN_ROLES } from '@cybercorp/protocol';
import type { UserPrincipal } from '../auth/access-tokens.js';
import { parseGrafanaUser, serviceTokenActor } from '../auth/service-caller.js';
import { SERVICE_TOKEN_PREFIX, hashToken, newOpaqueToken } from '../auth/secrets.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import { ApiError } from '../infra/problem.js';
import type {
  ServiceTokenRepository,
  ServiceTokenRole,
  ServiceTokenRow,
} from '../repositories/service-tokens.js';

/** A caller holding a service token; `username` is the audit actor it acts as. */
export interface ServicePrincipal extends UserPrincipal {
  serviceToken: { id: string; name: string };
  grafanaUser: string | undefined;
}

export interface ServiceTokenView {
  id: string;
  name: string;
  role: ServiceTokenRole;
  createdBy: string;
  createdAt: string;
}

const view = (row: ServiceTokenRow): ServiceTokenView => ({
  id: row.id,
  name: row.name,
  role: row.role,
  createdBy: row.createdBy,
  createdAt: row.createdAt.toISOString(),
});

export class ServiceTokenService {
  constructor(
    private readonly tokens: ServiceTokenRepository,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** The secret is returned only here; the database keeps its hash. */
  async create(
    name: string,
    role: ServiceTokenRole,
    createdBy: string,
  ): Promise<ServiceTokenView & { token: string }> {
    const token = newOpaqueToken(SERVICE_TOKEN_PREFIX);
    const row = await this.tokens.insert({
      id: randomUUID(),
      name,
      role,
      tokenHash: hashToken(token),
      createdBy,
    });
    if (!row) throw new ApiError('conflict', `an active service token is already named ${name}`);
    this.logger.info('service token created', { id: row.id, name, role, createdBy });
    return { ...view(row), token };
  }

  async list(): Promise<ServiceTokenView[]> {
    return (await this.tokens.listActive()).map(view);
  }

  async revoke(id: string, revokedBy: string): Promise<ServiceTokenView> {
    const row = await this.tokens.revoke(id, new Date(this.clock.now()));
    if (!row) throw new ApiError('not_found', `no active service token ${id}`);
    this.logger.info('service token revoked', { id, name: row.name, revokedBy });
    return view(row);
  }

  /**
   * Checks a `ccs_` secret and names the caller after the Grafana user the request carries.
   * The token is checked first, so an unauthenticated caller learns nothing about the header.
   * No caching: a revoked token must stop working on the next request.
   */
  async authenticate(
    token: string,
    grafanaUserHeader: readonly string[] | undefined,
  ): Promise<ServicePrincipal> {
    const row = token.startsWith(SERVICE_TOKEN_PREFIX)
      ? await this.tokens.findActiveByHash(hashToken(token))
      : null;
    // The table allows only these roles; checked again so a service token can never act as admin.
    if (!row || !(SERVICE_TOKEN_ROLES as readonly string[]).includes(row.role)) {
      throw new ApiError('unauthorized', 'the service token is invalid or revoked');
    }
    const grafanaUser = parseGrafanaUser(grafanaUserHeader);
    return {
      userId: row.id,
      username: serviceTokenActor(row.name, grafanaUser),
      role: row.role,
      serviceToken: { id: row.id, name: row.name },
      grafanaUser,
    };
  }
}
