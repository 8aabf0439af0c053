import React from 'react';
import { vi } from 'vitest';

import type { FakeBackend } from './fakeBackend';

/**
 * The parts of @grafana/runtime the plugin uses, for `vi.mock('@grafana/runtime', …)`: the page
 * chrome renders its children, and getBackendSrv answers from the FakeBackend a test installs.
 */
export const runtimeState: { backend: FakeBackend | null } = { backend: null };

export const runtimeMock = {
  PluginPage: ({ children }: { children: React.ReactNode }) => <>{children}</>,
  getBackendSrv: () => {
    if (!runtimeState.backend) {
      throw new Error('install a FakeBackend in runtimeState.backend first');
    }
    return runtimeState.backend;
  },
  locationService: { reload: vi.fn() },
};
