import type { Clock } from '../infra/clock.js';
import { ApiError } from '../infra/problem.js';
import type { AccessClaims } from './access-tokens.js';

/** What the database says about the users and sessions access tokens name. */
export interface TokenStateSource {
  /** The user's current token version and whether it is disabled; null once it is deleted. */
  tokenStateOf(userId: string): Promise<{ tokenVersion: number; disabled: boolean } | null>;
  /** Sessions (refresh-token families) revoked at or after `since`. */
  sessionsRevokedSince(since: Date): Promise<{ sessionId: string; revokedAt: Date }[]>;
}

type TokenState = Awaited<ReturnType<TokenStateSource['tokenStateOf']>>;

/**
 * How old a remembered user state may get before it is read again, in the background: the
 * bound on staleness should an invalidation message be lost (Redis down or reconnecting).
 */
const REVALIDATE_AFTER_MS = 10_000;
/** How often revoked sessions are read back from the database, for the same reason. */
const SESSION_SYNC_INTERVAL_MS = 10_000;
/** A revocation is stamped before its transaction commits: read back with this overlap. */
const COMMIT_SLACK_MS = 60_000;
/** Users remembered at most; beyond it the oldest are forgotten (and read again when seen). */
const USERS_REMEMBERED = 100_000;

const refused = (detail: string) => new ApiError('unauthorized', detail);

/**
 * Whether a verified access token is still current: its user exists, is enabled and still has
 * the token version the token carries, and its session has not ended. Answered from memory, so
 * a request costs no database round trip (and `GET /me` keeps working while the database is
 * away); the memory is kept current by invalidations (this instance's own changes, and other
 * instances' through Redis, see token-invalidations.ts), and re-read in the background every few
 * seconds as a safety net. A user not yet in memory is read from the database once; while the
 * database is unavailable that request gets 503 `database_unavailable`.
 */
export class TokenValidity {
  private readonly users = new Map<string, { state: TokenState; loadedAt: number }>();
  private readonly loads = new Map<string, Promise<TokenState>>();
  /**
   * Bumped by every invalidation: a read that began before one may hold the state from before
   * the change, so its result answers its own waiters but is not remembered.
   */
  private generation = 0;
  /** Ended sessions, until the last access token they can have issued has expired (ms). */
  private readonly endedSessions = new Map<string, number>();
  /** Where the next read of revoked sessions starts; undefined: the whole token lifetime. */
  private sessionsReadFrom: number | undefined;
  private nextSessionSyncAt = Number.POSITIVE_INFINITY;
  private sessionSync: Promise<void> | undefined;
  /** Bumped when everything is forgotten, so that a read in flight does not skip the gap. */
  private resets = 0;
  private readonly tokenLifetimeMs: number;

  constructor(
    private readonly source: TokenStateSource,
    private readonly clock: Clock,
    /** The longest an access token lives, clock skew included. */
    tokenLifetimeSeconds: number,
  ) {
    this.tokenLifetimeMs = tokenLifetimeSeconds * 1000;
  }

  /** Reads the sessions that ended within an access token's lifetime (before serving). */
  start(): Promise<void> {
    return this.syncSessions();
  }

  async assertCurrent(claims: AccessClaims): Promise<void> {
    const now = this.clock.now();
    if (now >= this.nextSessionSyncAt) void this.syncSessions().catch(() => undefined);
    const endedUntil = this.endedSessions.get(claims.sessionId);
    if (endedUntil !== undefined && endedUntil > now) {
      throw refused('the session of this access token has ended');
    }
    const state = await this.stateOf(claims.userId, now);
    if (!state) throw refused('the user of this access token no longer exists');
    if (state.disabled) throw refused('the user of this access token is disabled');
    if (state.tokenVersion !== claims.tokenVersion) {
      throw refused('the user changed after this access token was issued; refresh or log in');
    }
  }

  /** The user's role, password, state or existence changed: read it again when next seen. */
  userChanged(userId: string): void {
    this.generation++;
    this.users.delete(userId);
    this.loads.delete(userId);
  }

  /** A session ended at `at`: its access tokens are refused until they would have expired. */
  sessionEnded(sessionId: string, at = this.clock.now()): void {
    const until = at + this.tokenLifetimeMs;
    if (until > this.clock.now() && until > (this.endedSessions.get(sessionId) ?? 0)) {
      this.endedSessions.set(sessionId, until);
    }
  }

  /** Invalidations may have been missed (Redis reconnected): everything is read again. */
  forgetAll(): void {
    this.generation++;
    this.resets++;
    this.users.clear();
    this.loads.clear();
    this.sessionsReadFrom = undefined;
    this.nextSessionSyncAt = 0;
  }

  private stateOf(userId: string, now: number): Promise<TokenState> {
    const known = this.users.get(userId);
    if (!known) return this.load(userId);
    if (now - known.loadedAt >= REVALIDATE_AFTER_MS) {
      // The database being away must not refuse anyone: the state in memory stays in use.
      void this.load(userId).catch(() => undefined);
    }
    return Promise.resolve(known.state);
  }

  private load(userId: string): Promise<TokenState> {
    const pending = this.loads.get(userId);
    if (pending) return pending;
    const generation = this.generation;
    const loading = this.source
      .tokenStateOf(userId)
      .then((state) => {
        if (generation === this.generation) this.remember(userId, state);
        return state;
      })
      .finally(() => {
        if (this.loads.get(userId) === loading) this.loads.delete(userId);
      });
    this.loads.set(userId, loading);
    return loading;
  }

  private remember(userId: string, state: TokenState): void {
    this.users.delete(userId);
    if (this.users.size >= USERS_REMEMBERED) {
      const oldest = this.users.keys().next();
      if (!oldest.done) this.users.delete(oldest.value);
    }
    this.users.set(userId, { state, loadedAt: this.clock.now() });
  }

  private syncSessions(): Promise<void> {
    if (this.sessionSync) return this.sessionSync;
    const startedAt = this.clock.now();
    const resets = this.resets;
    this.nextSessionSyncAt = startedAt + SESSION_SYNC_INTERVAL_MS;
    const from = this.sessionsReadFrom ?? startedAt - this.tokenLifetimeMs;
    const syncing = this.source
      .sessionsRevokedSince(new Date(from))
      .then((sessions) => {
        for (const s of sessions) this.sessionEnded(s.sessionId, s.revokedAt.getTime());
        if (resets === this.resets) this.sessionsReadFrom = startedAt - COMMIT_SLACK_MS;
        for (const [sessionId, until] of this.endedSessions) {
          if (until <= startedAt) this.endedSessions.delete(sessionId);
        }
      })
      .finally(() => {
        this.sessionSync = undefined;
      });
    this.sessionSync = syncing;
    return syncing;
  }
}
