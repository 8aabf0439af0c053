/**
 * The connection of the X11 window backend: one X connection per controller with the atoms it
 * needs, opened on first use, opened again after it is lost, closed with the controller.
 */
import { WindowControlError } from '../windows.js';
import { XConnection, XConnectionError } from './connection.js';
import { ATOM_NAMES, type Atoms } from './ewmh.js';
import type { ByteOrder } from './properties.js';

export interface Session {
  conn: XConnection;
  atoms: Atoms;
  byteOrder: ByteOrder;
}

export interface DisplaySessionOptions {
  /** X display such as `:0`; undefined when there is none ($DISPLAY unset). */
  display: string | undefined;
  connectTimeoutMs: number;
  /** The connection of `session` has closed, with the error that closed it if any. */
  onLost: (session: Session, error: Error | null) => void;
}

export class DisplaySession {
  readonly display: string | undefined;
  private opening: Promise<Session> | null = null;
  private closed = false;

  constructor(private readonly options: DisplaySessionOptions) {
    this.display = options.display;
  }

  /** The connected session, shared by every caller until it is lost. */
  open(): Promise<Session> {
    if (this.closed) return Promise.reject(new XConnectionError('the window controller is closed'));
    if (this.opening) return this.opening;
    const display = this.display;
    if (display === undefined) return Promise.reject(new XConnectionError('$DISPLAY unset'));
    const opening = this.connect(display);
    this.opening = opening;
    opening.catch(() => {
      if (this.opening === opening) this.opening = null;
    });
    return opening;
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = this.opening;
    this.opening = null;
    if (pending) {
      const session = await pending.catch(() => null);
      await session?.conn.close();
    }
  }

  private async connect(display: string): Promise<Session> {
    const conn = await XConnection.open({
      display,
      connectTimeoutMs: this.options.connectTimeoutMs,
    });
    let atoms: Atoms;
    try {
      atoms = await conn.internAtoms(ATOM_NAMES);
    } catch (error) {
      await conn.close();
      throw error;
    }
    const session: Session = { conn, atoms, byteOrder: conn.byteOrder === 1 ? 1 : 0 };
    conn.onClose((error) => {
      this.opening = null;
      this.options.onLost(session, error);
    });
    if (this.closed) {
      await conn.close();
      throw new XConnectionError('the window controller is closed');
    }
    return session;
  }
}

export function describeConnectFailure(display: string | undefined, error: unknown): string {
  if (display === undefined) return 'no X display ($DISPLAY unset)';
  const detail = error instanceof Error ? error.message : String(error);
  return `no X display (${detail})`;
}

export function lostDisplay(error: XConnectionError): WindowControlError {
  return new WindowControlError('capability_missing', `no X display (${error.message})`);
}
