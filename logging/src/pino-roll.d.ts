// pino-roll ships no types; this is the part of its API the log file uses.
declare module 'pino-roll' {
  import type { EventEmitter } from 'node:events';

  interface PinoRollOptions {
    file: string;
    frequency?: 'daily' | 'hourly' | number;
    dateFormat?: string;
    limit?: { count: number; removeOtherLogFiles?: boolean };
    mkdir?: boolean;
    mode?: number;
    sync?: boolean;
  }

  /** A sonic-boom stream that moves to a new file at each rotation. */
  interface RollingStream extends EventEmitter {
    readonly file: string;
    readonly destroyed: boolean;
    write(data: string): boolean;
    end(): void;
  }

  export default function roll(options: PinoRollOptions): Promise<RollingStream>;
}
