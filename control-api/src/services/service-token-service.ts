import { randomUUID } from 'node:crypto';
import { INGEST_SERVICE_TOKEN_ROLE, REST_SERVICE_TOKEN_ROLES } from '@cybercorp/protocol';
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
    const row = await this.activeRow(token);
    // Checked here although the table allows no other role, so a service token can never act as
    // admin; an ingest token is not a REST caller at all.
    const role = REST_SERVICE_TOKEN_ROLES.find((candidate) => candidate === row?.role);
    if (!row || !role) {
      throw new ApiError('unauthorized', 'the service token is invalid or revoked');
    }
    const grafanaUser = parseGrafanaUser(grafanaUserHeader);
    return {
      userId: row.id,
      username: serviceTokenActor(row.name, grafanaUser),
      role,
      serviceToken: { id: row.id, name: row.name },
      grafanaUser,
    };
  }

  /** Checks a `ccs_` secret of role `ingest` (OTLP export to `POST /v1/metrics`). */
  async authenticateIngest(token: string): Promise<{ id: string; name: string }> {
    const row = await this.activeRow(token);
    if (!row || row.role !== INGEST_SERVICE_TOKEN_ROLE) {
      throw new ApiError('unauthorized', 'an active service token of role ingest is required');
    }
    return { id: row.id, name: row.name };
  }

  private async activeRow(token: string): Promise<ServiceTokenRow | null> {
    return token.startsWith(SERVICE_TOKEN_PREFIX)
      ? this.tokens.findActiveByHash(hashToken(token))
      : null;
  }
}
