import { describe, expect, it } from 'vitest';
import { parseNetDev } from './net-dev.js';

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    6078      59    0    0    0     0          0         0     6078      59    0    0    0     0       0          0
  eth0:1272918354   49962    3    4    0     0          0         0  4032118   34116    5    6    0     0       0          0
`;

describe('parseNetDev', () => {
  it('reads bytes, errors and drops per interface, even when the name touches the first number', () => {
    expect(parseNetDev(NET_DEV)).toEqual([
      {
        name: 'lo',
        receiveBytes: 6078,
        receiveErrors: 0,
        receiveDropped: 0,
        transmitBytes: 6078,
        transmitErrors: 0,
        transmitDropped: 0,
      },
      {
        name: 'eth0',
        receiveBytes: 1272918354,
        receiveErrors: 3,
        receiveDropped: 4,
        transmitBytes: 4032118,
        transmitErrors: 5,
        transmitDropped: 6,
      },
    ]);
  });

  it('rejects a line with missing counters', () => {
    expect(() => parseNetDev('h1\nh2\n  eth0: 1 2 3\n')).toThrow(/eth0 has 3 fields/);
  });
});
