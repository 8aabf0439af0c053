import type { Meter } from '@opentelemetry/api';
import type { MetricsCollector } from '../collector.js';
import type { HostFiles } from '../host-files.js';
import { parseNetDev } from '../parse/net-dev.js';
import {
  ATTR_NETWORK_INTERFACE_NAME,
  ATTR_NETWORK_IO_DIRECTION,
  DIRECTION_RECEIVE,
  DIRECTION_TRANSMIT,
  METRIC_SYSTEM_NETWORK_DROPPED,
  METRIC_SYSTEM_NETWORK_ERRORS,
  METRIC_SYSTEM_NETWORK_IO,
  UNIT_BYTES,
  UNIT_ERRORS,
  UNIT_PACKETS,
} from '../semconv.js';

/** `system.network.io`, `.errors` and `.dropped` per interface and direction, from /proc/net/dev. */
export class NetworkCollector implements MetricsCollector {
  readonly name = 'network';

  constructor(private readonly files: HostFiles) {}

  register(meter: Meter): void {
    const io = meter.createObservableCounter(METRIC_SYSTEM_NETWORK_IO, {
      description: 'Bytes received and transmitted per interface',
      unit: UNIT_BYTES,
    });
    const errors = meter.createObservableCounter(METRIC_SYSTEM_NETWORK_ERRORS, {
      description: 'Receive and transmit errors per interface',
      unit: UNIT_ERRORS,
    });
    const dropped = meter.createObservableCounter(METRIC_SYSTEM_NETWORK_DROPPED, {
      description: 'Packets dropped on receive and transmit per interface',
      unit: UNIT_PACKETS,
    });
    meter.addBatchObservableCallback(
      async (result) => {
        for (const nic of parseNetDev(await this.files.readProc('net/dev'))) {
          const receive = {
            [ATTR_NETWORK_INTERFACE_NAME]: nic.name,
            [ATTR_NETWORK_IO_DIRECTION]: DIRECTION_RECEIVE,
          };
          const transmit = {
            [ATTR_NETWORK_INTERFACE_NAME]: nic.name,
            [ATTR_NETWORK_IO_DIRECTION]: DIRECTION_TRANSMIT,
          };
          result.observe(io, nic.receiveBytes, receive);
          result.observe(io, nic.transmitBytes, transmit);
          result.observe(errors, nic.receiveErrors, receive);
          result.observe(errors, nic.transmitErrors, transmit);
          result.observe(dropped, nic.receiveDropped, receive);
          result.observe(dropped, nic.transmitDropped, transmit);
        }
      },
      [io, errors, dropped],
    );
  }
}
