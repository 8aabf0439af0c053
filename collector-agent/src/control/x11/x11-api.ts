/**
 * The slice of the `x11` npm package (pure JavaScript, callback style, no bundled types) that
 * the X11 window backend uses, typed here so the rest of the backend never touches `any`.
 */
import { createRequire } from 'node:module';

export type XCallback<T> = (error: XRawError | null | undefined, result: T) => unknown;

/** What the package hands to callbacks for a protocol error. */
export interface XRawError extends Error {
  /** X error code (3 BadWindow, 9 BadDrawable, ...); absent for transport errors. */
  error?: number;
  badParam?: number;
  majorOpcode?: number;
}

export interface XRawProperty {
  type: number;
  format: number;
  bytesAfter: number;
  data: Buffer;
}

export interface XRawGeometry {
  xPos: number;
  yPos: number;
  width: number;
  height: number;
  borderWidth: number;
}

export interface XRawTranslation {
  destX: number;
  destY: number;
  child: number;
}

export interface XRawEvent {
  name: string;
  type: number;
  /** Event window (PropertyNotify, ConfigureNotify, DestroyNotify's `event` is separate). */
  wid?: number;
  /** ConfigureNotify: the configured window. */
  wid1?: number;
  /** DestroyNotify / UnmapNotify: the window the event was reported on. */
  event?: number;
  atom?: number;
}

export interface XClient {
  /** InternAtom's cache, name → atom. */
  atoms: Record<string, number>;
  /** GetAtomName's cache, atom → name. */
  atom_names: Record<number, string>;
  InternAtom(onlyIfExists: boolean, name: string, cb: XCallback<number>): void;
  GetProperty(
    del: number,
    window: number,
    property: number,
    type: number,
    longOffset: number,
    longLength: number,
    cb: XCallback<XRawProperty>,
  ): void;
  GetGeometry(drawable: number, cb: XCallback<XRawGeometry>): void;
  TranslateCoordinates(
    src: number,
    dst: number,
    x: number,
    y: number,
    cb: XCallback<XRawTranslation>,
  ): void;
  ChangeWindowAttributes(window: number, values: { eventMask: number }, cb: XCallback<void>): void;
  SendClientMessage(
    destination: number,
    window: number,
    messageType: number,
    format: 8 | 16 | 32,
    data: number[],
    eventMask: number,
    cb: XCallback<void>,
  ): void;
  sync(cb: (error: XRawError | null | undefined) => void): void;
  close(cb: (error?: XRawError | null) => void): void;
  terminate(): void;
  on(event: 'event', listener: (event: XRawEvent) => void): this;
  on(event: 'error', listener: (error: XRawError) => void): this;
  on(event: 'end' | 'close', listener: () => void): this;
  removeAllListeners(event?: string): this;
}

export interface XDisplay {
  client: XClient;
  screen: Array<{ root: number }>;
  /** 0 LSBFirst, 1 MSBFirst: the order of every property value on this connection. */
  byte_order?: number;
}

export interface X11Module {
  createClient(
    options: {
      display: string;
      bufferRequests?: boolean | { flushOnReply?: boolean };
      disableBigRequests?: boolean;
    },
    cb: (error: XRawError | null | undefined, display: XDisplay) => void,
  ): XClient;
  eventMask: Record<
    'PropertyChange' | 'StructureNotify' | 'SubstructureNotify' | 'SubstructureRedirect',
    number
  >;
}

const require = createRequire(import.meta.url);

export function loadX11(): X11Module {
  return require('x11') as X11Module;
}
