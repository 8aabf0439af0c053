import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { MetricsCollector } from '../collector.js';
import type { HostFiles } from '../host-files.js';
import { withPoints, type MetricCycle, type Observation } from '../metric-data.js';
import { parseNetDev } from '../../proc/net-dev.js';
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

const NETWORK_IO = {
  name: METRIC_SYSTEM_NETWORK_IO,
  description: 'Bytes received and transmitted per interface',
  unit: UNIT_BYTES,
};
const NETWORK_ERRORS = {
  name: METRIC_SYSTEM_NETWORK_ERRORS,
  description: 'Receive and transmit errors per interface',
  unit: UNIT_ERRORS,
};
const NETWORK_DROPPED = {
  name: METRIC_SYSTEM_NETWORK_DROPPED,
  description: 'Packets dropped on receive and transmit per interface',
  unit: UNIT_PACKETS,
};

/** `system.network.io`, `.errors` and `.dropped` per interface and direction, from /proc/net/dev. */
export class NetworkCollector implements MetricsCollector {
  readonly name = 'network';

  constructor(private readonly files: HostFiles) {}

  async collect(cycle: MetricCycle): Promise<MetricData[]> {
    const io: Observation[] = [];
    const errors: Observation[] = [];
    const dropped: Observation[] = [];
    for (const nic of parseNetDev(await this.files.readProc('net/dev'))) {
      const receive = {
        [ATTR_NETWORK_INTERFACE_NAME]: nic.name,
        [ATTR_NETWORK_IO_DIRECTION]: DIRECTION_RECEIVE,
      };
      const transmit = {
        [ATTR_NETWORK_INTERFACE_NAME]: nic.name,
        [ATTR_NETWORK_IO_DIRECTION]: DIRECTION_TRANSMIT,
      };
      io.push(
        { attributes: receive, value: nic.receiveBytes },
        { attributes: transmit, value: nic.transmitBytes },
      );
      errors.push(
        { attributes: receive, value: nic.receiveErrors },
        { attributes: transmit, value: nic.transmitErrors },
      );
      dropped.push(
        { attributes: receive, value: nic.receiveDropped },
        { attributes: transmit, value: nic.transmitDropped },
      );
    }
    return withPoints([
      cycle.counter(NETWORK_IO, io),
      cycle.counter(NETWORK_ERRORS, errors),
      cycle.counter(NETWORK_DROPPED, dropped),
    ]);
  }
}
