import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildResource, osType, parseResourceAttributes } from './resource.js';

const UID = '01932c5e-1111-7222-8333-444455556666';
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'resource-'));
  await writeFile(join(dir, 'machine-id'), 'b08dfa6083e7567a1921a715000001fb\n');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const build = (env: NodeJS.ProcessEnv) =>
  buildResource({
    instanceUid: UID,
    env,
    platform: 'linux',
    hostname: () => 'web-1',
    machineIdPaths: [join(dir, 'missing'), join(dir, 'machine-id')],
    serviceVersion: '1.2.3',
  });

describe('agent resource', () => {
  it('describes the host with semantic-convention attributes', async () => {
    const { attributes, resource } = await build({});
    expect(attributes).toEqual({
      'service.name': 'cybercorp-agent',
      'service.version': '1.2.3',
      'service.instance.id': UID,
      'host.name': 'web-1',
      'host.id': 'b08dfa6083e7567a1921a715000001fb',
      'os.type': 'linux',
    });
    expect(resource.attributes['host.id']).toBe('b08dfa6083e7567a1921a715000001fb');
  });

  it('lets OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME override, but never the instance id', async () => {
    const { attributes } = await build({
      OTEL_RESOURCE_ATTRIBUTES:
        'host.name=edge%2C01,deployment.environment=prod,service.instance.id=other',
      OTEL_SERVICE_NAME: 'edge-agent',
    });
    expect(attributes).toMatchObject({
      'host.name': 'edge,01',
      'deployment.environment': 'prod',
      'service.name': 'edge-agent',
      'service.instance.id': UID,
    });
  });

  it('parses the OTEL_RESOURCE_ATTRIBUTES list leniently', () => {
    expect(parseResourceAttributes(' a=1 , b = two words ,broken,=x,c=%E2%9C%93')).toEqual({
      a: '1',
      b: 'two words',
      c: '✓',
    });
    expect(parseResourceAttributes(undefined)).toEqual({});
  });

  it('maps Node platforms to os.type values', () => {
    expect(osType('win32')).toBe('windows');
    expect(osType('darwin')).toBe('darwin');
    expect(osType('linux')).toBe('linux');
  });
});
