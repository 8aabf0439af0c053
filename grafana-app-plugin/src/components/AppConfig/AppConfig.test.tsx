import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React from 'react';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import { FakeBackend, problem } from '../../test/fakeBackend';
import { runtimeMock, runtimeState } from '../../test/runtimeMock';
import { testIds } from '../testIds';
import AppConfig, { type AppConfigProps } from './AppConfig';

vi.mock('@grafana/runtime', async () => (await import('../../test/runtimeMock')).runtimeMock);

const SETTINGS = '/api/plugins/cybercorp-fleet-app/settings';
const ME = '/api/plugin-proxy/cybercorp-fleet-app/read/me';

function renderConfig(meta: {
  enabled: boolean;
  apiUrl?: string;
  secureJsonFields?: Record<string, boolean>;
}) {
  const plugin = {
    meta: {
      id: 'cybercorp-fleet-app',
      enabled: meta.enabled,
      pinned: meta.enabled,
      jsonData: meta.apiUrl ? { apiUrl: meta.apiUrl } : {},
      secureJsonFields: meta.secureJsonFields ?? {},
    },
  } as unknown as AppConfigProps['plugin'];
  return render(<AppConfig plugin={plugin} query={{}} />);
}

let backend: FakeBackend;
beforeEach(() => {
  backend = new FakeBackend();
  runtimeState.backend = backend;
  runtimeMock.locationService.reload.mockClear();
});

describe('AppConfig', () => {
  it('shows stored tokens only as configured, never their value', () => {
    renderConfig({
      enabled: true,
      apiUrl: 'http://127.0.0.1:8080',
      secureJsonFields: { readToken: true },
    });
    expect(screen.getByTestId(testIds.appConfig.apiUrl)).toHaveValue('http://127.0.0.1:8080');
    const read = screen.getByTestId(testIds.appConfig.readToken);
    expect(read).toHaveValue('configured');
    expect(read).toBeDisabled();
    expect(screen.getByTestId(testIds.appConfig.actToken)).toHaveValue('');
  });

  it('saves the URL and new secrets through Grafana, then reloads', async () => {
    backend.reply('POST', SETTINGS, {});
    renderConfig({ enabled: false });
    await userEvent.type(screen.getByTestId(testIds.appConfig.apiUrl), 'http://127.0.0.1:8080/');
    await userEvent.type(screen.getByTestId(testIds.appConfig.readToken), 'read-secret');
    await userEvent.type(screen.getByTestId(testIds.appConfig.actToken), 'act-secret');
    await userEvent.click(screen.getByTestId(testIds.appConfig.save));

    await vi.waitFor(() => expect(runtimeMock.locationService.reload).toHaveBeenCalled());
    expect(backend.sent('POST', SETTINGS)[0]?.data).toEqual({
      enabled: true,
      pinned: true,
      jsonData: { apiUrl: 'http://127.0.0.1:8080' },
      secureJsonData: { readToken: 'read-secret', actToken: 'act-secret' },
    });
  });

  it('sends an empty secret after reset so Grafana forgets it, and leaves the other untouched', async () => {
    backend.reply('POST', SETTINGS, {});
    renderConfig({
      enabled: true,
      apiUrl: 'http://api:8080',
      secureJsonFields: { readToken: true, actToken: true },
    });
    // One Reset per configured secret, in the order of the fields: read, then action.
    const resets = screen.getAllByRole('button', { name: 'Reset' });
    expect(resets).toHaveLength(2);
    await userEvent.click(resets[1]!);
    expect(screen.getByTestId(testIds.appConfig.actToken)).toHaveValue('');
    expect(screen.getByTestId(testIds.appConfig.readToken)).toHaveValue('configured');
    await userEvent.click(screen.getByTestId(testIds.appConfig.save));
    await vi.waitFor(() => expect(backend.sent('POST', SETTINGS)).toHaveLength(1));
    expect(backend.sent('POST', SETTINGS)[0]?.data).toMatchObject({
      secureJsonData: { actToken: '' },
    });
    expect(backend.sent('POST', SETTINGS)[0]?.data).not.toHaveProperty('secureJsonData.readToken');
  });

  it('refuses to save a URL that is not http(s)', async () => {
    renderConfig({ enabled: false });
    await userEvent.type(screen.getByTestId(testIds.appConfig.apiUrl), 'ftp://nope');
    expect(screen.getByTestId(testIds.appConfig.save)).toBeDisabled();
    expect(screen.getByText('Enter an http:// or https:// URL')).toBeInTheDocument();
  });

  it('shows why saving failed', async () => {
    backend.fail('POST', SETTINGS, { status: 403, data: { message: 'Permission denied' } });
    renderConfig({ enabled: true, apiUrl: 'http://api:8080' });
    await userEvent.click(screen.getByTestId(testIds.appConfig.save));
    expect(await screen.findByText('Permission denied')).toBeInTheDocument();
    expect(runtimeMock.locationService.reload).not.toHaveBeenCalled();
  });

  it('tests the connection through the read route and names the token user', async () => {
    backend.reply('GET', ME, {
      username: 'grafana-read',
      role: 'viewer',
      permissions: ['agents:read'],
    });
    renderConfig({
      enabled: true,
      apiUrl: 'http://api:8080',
      secureJsonFields: { readToken: true },
    });
    await userEvent.click(screen.getByTestId(testIds.appConfig.testConnection));
    const result = await screen.findByTestId(testIds.appConfig.testResult);
    expect(result).toHaveTextContent('Connection works');
    expect(result).toHaveTextContent('“grafana-read” (role viewer)');
  });

  it('shows the error when the connection test fails', async () => {
    backend.fail('GET', ME, problem(401, 'unauthorized', 'token expired'));
    renderConfig({
      enabled: true,
      apiUrl: 'http://api:8080',
      secureJsonFields: { readToken: true },
    });
    await userEvent.click(screen.getByTestId(testIds.appConfig.testConnection));
    const result = await screen.findByTestId(testIds.appConfig.testResult);
    expect(result).toHaveTextContent('Connection failed');
    expect(result).toHaveTextContent('token expired (unauthorized)');
  });

  it('only offers the connection test once the app is enabled', () => {
    renderConfig({ enabled: false });
    expect(screen.getByTestId(testIds.appConfig.testConnection)).toBeDisabled();
  });
});
