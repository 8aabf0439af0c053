import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import React from 'react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';

import { FleetApiClient } from '../api/client';
import { ApiClientProvider } from '../api/context';
import { AppRoutes } from '../components/App/App';
import { PLUGIN_BASE_URL } from '../constants';
import type { FakeBackend } from './fakeBackend';

/** Renders the app's real routes at `url`, as Grafana mounts them under /a/<plugin id>/. */
export function renderApp(backend: FakeBackend, url: string) {
  const queryClient = new QueryClient({
    defaultOptions: {
      queries: { retry: false, refetchInterval: false },
      mutations: { retry: false },
    },
  });
  return render(
    <QueryClientProvider client={queryClient}>
      <ApiClientProvider client={new FleetApiClient(backend)}>
        <MemoryRouter initialEntries={[url]}>
          <Routes>
            <Route path={`${PLUGIN_BASE_URL}/*`} element={<AppRoutes />} />
          </Routes>
        </MemoryRouter>
      </ApiClientProvider>
    </QueryClientProvider>,
  );
}
