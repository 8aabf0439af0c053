/**
 * Promise helpers over one connection of the callback-style `x11` package. Every request made
 * by the window backend goes through here, so X errors, a dropped connection and setup
 * timeouts are handled in one place.
 */
import {
  loadX11,
  type X11Module,
  type XCallback,
  type XClient,
  type XRawError,
  type XRawEvent,
  type XRawProperty,
} from './x11-api.js';

/** The highest predefined atom (X11 protocol, appendix B); the same on every server. */
const LAST_PREDEFINED_ATOM = 68;

/** X protocol error codes the backend reacts to (X11 protocol, section 4). */
export const X_ERROR = { BadWindow: 3, BadDrawable: 9 } as const;

export class XProtocolError extends Error {
  constructor(
    readonly xCode: number,
    message: string,
    readonly badValue: number | undefined,
  ) {
    super(message);
    this.name = 'XProtocolError';
  }

  /** The window was destroyed between the client list and a request about it. */
  get windowVanished(): boolean {
    return this.xCode === X_ERROR.BadWindow || this.xCode === X_ERROR.BadDrawable;
  }
}

export class XConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'XConnectionError';
  }
}

export interface PropertyValue {
  type: number;
  format: number;
  data: Buffer;
}

const ANY_PROPERTY_TYPE = 0;
/**
 * Cap on requests awaiting an answer. The package scans all outstanding requests on every
 * reply, so a few hundred in flight (50 windows x 7 requests) cost quadratic time; a bounded
 * pipeline keeps the round-trip savings without that cost.
 */
const MAX_IN_FLIGHT = 32;

export interface XConnectionOptions {
  display: string;
  connectTimeoutMs: number;
  /** Injected for tests; the real package otherwise. */
  x11?: X11Module;
}

export class XConnection {
  private readonly pending = new Set<(error: Error) => void>();
  /** Requests issued and not yet answered, and those queued behind MAX_IN_FLIGHT. */
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  private closedWith: Error | null = null;
  private readonly closeListeners = new Set<(error: Error | null) => void>();
  private readonly eventListeners = new Set<(event: XRawEvent) => void>();

  private constructor(
    private readonly client: XClient,
    readonly display: string,
    readonly root: number,
    /** 0 LSBFirst, 1 MSBFirst. */
    readonly byteOrder: number,
    readonly eventMask: X11Module['eventMask'],
  ) {
    isolateAtomCache(client);
    client.on('event', (event) => {
      for (const listener of this.eventListeners) listener(event);
    });
    // Errors nobody claimed: transport failures after setup. Requests always pass a callback,
    // so protocol errors never land here.
    client.on('error', (error) =>
      this.markClosed(
        new XConnectionError(`X connection to ${display} failed: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    client.on('end', () =>
      this.markClosed(new XConnectionError(`X connection to ${display} closed by the server`)),
    );
  }

  static open(options: XConnectionOptions): Promise<XConnection> {
    const x11 = options.x11 ?? loadX11();
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        try {
          client?.terminate();
        } catch {
          // the socket never opened; nothing to end
        }
        const detail = error instanceof Error ? error.message : String(error);
        reject(
          new XConnectionError(`cannot connect to X display ${options.display}: ${detail}`, {
            cause: error,
          }),
        );
      };
      const timer = setTimeout(
        () => fail(new Error(`no answer within ${options.connectTimeoutMs} ms`)),
        options.connectTimeoutMs,
      );
      let client: XClient | undefined;
      try {
        // Buffered output: a listing pipelines hundreds of small requests, which then leave in a
        // few writes instead of one syscall each.
        client = x11.createClient(
          { display: options.display, bufferRequests: { flushOnReply: false } },
          (error, display) => {
            if (error) return fail(error);
            if (settled) {
              display.client.terminate();
              return;
            }
            const screen = display.screen[0];
            if (!screen) return fail(new Error('the display has no screen'));
            settled = true;
            clearTimeout(timer);
            display.client.removeAllListeners('error');
            resolve(
              new XConnection(
                display.client,
                options.display,
                screen.root,
                display.byte_order ?? 0,
                x11.eventMask,
              ),
            );
          },
        );
      } catch (error) {
        // parseDisplay throws synchronously on a malformed display string
        fail(error);
        return;
      }
      // Handshake failures (e.g. authorization refused) are emitted, not passed to the callback.
      client?.on('error', fail);
    });
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  onEvent(listener: (event: XRawEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Called once when the connection ends; `null` when closed by `close()`. */
  onClose(listener: (error: Error | null) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Intern many atoms in one pipelined batch. */
  async internAtoms<const N extends string>(names: readonly N[]): Promise<Record<N, number>> {
    const values = await Promise.all(
      names.map((name) => this.call<number>((cb) => this.client.InternAtom(false, name, cb))),
    );
    return Object.fromEntries(names.map((name, i) => [name, values[i]])) as Record<N, number>;
  }

  /** A property's raw value, or null when the window does not have it. */
  async getProperty(
    window: number,
    property: number,
    maxBytes: number,
  ): Promise<PropertyValue | null> {
    const longLength = Math.ceil(maxBytes / 4);
    const raw = await this.call<XRawProperty>((cb) =>
      this.client.GetProperty(0, window, property, ANY_PROPERTY_TYPE, 0, longLength, cb),
    );
    if (raw.type === 0 && raw.format === 0) return null;
    return { type: raw.type, format: raw.format, data: raw.data };
  }

  async getGeometry(
    window: number,
  ): Promise<{ width: number; height: number; borderWidth: number }> {
    const g = await this.call<{ width: number; height: number; borderWidth: number }>((cb) =>
      this.client.GetGeometry(window, cb),
    );
    return { width: g.width, height: g.height, borderWidth: g.borderWidth };
  }

  /** Where the window's origin lies in root coordinates. */
  async originOnRoot(window: number): Promise<{ x: number; y: number }> {
    const t = await this.call<{ destX: number; destY: number }>((cb) =>
      this.client.TranslateCoordinates(window, this.root, 0, 0, cb),
    );
    return { x: t.destX, y: t.destY };
  }

  selectInput(window: number, eventMask: number): Promise<void> {
    return this.call<void>((cb) => this.client.ChangeWindowAttributes(window, { eventMask }, cb));
  }

  /**
   * A format-32 ClientMessage about `window`, sent to the root with
   * SubstructureRedirect|SubstructureNotify: how EWMH and ICCCM address the window manager.
   */
  sendToWindowManager(window: number, messageType: number, data: number[]): Promise<void> {
    const mask = this.eventMask.SubstructureRedirect | this.eventMask.SubstructureNotify;
    return this.call<void>((cb) =>
      this.client.SendClientMessage(this.root, window, messageType, 32, data, mask, cb),
    );
  }

  /** Round trip: every request issued so far has been processed by the server. */
  sync(): Promise<void> {
    return this.call<void>((cb) => this.client.sync((error) => cb(error, undefined)));
  }

  async close(): Promise<void> {
    if (this.closedWith) return;
    this.markClosed(null);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.client.terminate();
        resolve();
      }, 1000);
      try {
        this.client.close(() => {
          clearTimeout(timer);
          resolve();
        });
      } catch {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  private markClosed(error: Error | null): void {
    if (this.closedWith) return;
    this.closedWith = error ?? new XConnectionError(`X connection to ${this.display} was closed`);
    for (const reject of this.pending) reject(this.closedWith);
    this.pending.clear();
    this.waiting.length = 0;
    for (const listener of this.closeListeners) listener(error);
    this.closeListeners.clear();
  }

  private call<T>(issue: (cb: XCallback<T>) => void): Promise<T> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<T>((resolve, reject) => {
      const abort = (error: Error) => reject(error);
      this.pending.add(abort);
      const send = () => {
        if (this.closedWith) return; // already rejected through `pending`
        this.inFlight++;
        try {
          issue((error, result) => {
            this.pending.delete(abort);
            this.requestDone();
            if (error) {
              reject(toError(error));
              // Tells the package the error is handled, so it is not re-emitted on the client.
              return true;
            }
            resolve(result);
            return undefined;
          });
        } catch (error) {
          this.pending.delete(abort);
          this.requestDone();
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      };
      if (this.inFlight < MAX_IN_FLIGHT) send();
      else this.waiting.push(send);
    });
  }

  private requestDone(): void {
    this.inFlight--;
    const next = this.waiting.shift();
    if (next) next();
  }
}

function isolateAtomCache(client: XClient): void {
  const atoms: Record<string, number> = {};
  const names: Record<number, string> = {};
  for (const [name, atom] of Object.entries(client.atoms)) {
    if (atom >= 1 && atom <= LAST_PREDEFINED_ATOM) {
      atoms[name] = atom;
      names[atom] = name;
    }
  }
  client.atoms = atoms;
  client.atom_names = names;
}

function toError(raw: XRawError): Error {
  if (typeof raw.error === 'number') {
    return new XProtocolError(
      raw.error,
      `X error ${raw.error} (${raw.message || 'unknown'}) on request ${raw.majorOpcode ?? '?'}`,
      raw.badParam,
    );
  }
  return raw instanceof Error ? raw : new Error(String(raw));
}
