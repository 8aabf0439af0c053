import type { AppRootProps } from '@grafana/data';
import { getBackendSrv } from '@grafana/runtime';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import React, { useState } from 'react';
import { Navigate, Route, Routes } from 'react-router-dom';

import { FleetApiClient } from '../../api/client';
import { ApiClientProvider } from '../../api/context';
import { ROUTES } from '../../constants';
import { AuditPage } from '../../pages/Audit/AuditPage';
import { FleetPage } from '../../pages/Fleet/FleetPage';
import { HostPage } from '../../pages/Host/HostPage';

function newQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      // A refused request (4xx) will be refused again; only retry what may be transient.
      queries: {
        retry: (count, error) => count < 2 && (error.status === 0 || error.status >= 500),
      },
      mutations: { retry: false },
    },
  });
}

export function AppRoutes() {
  return (
    <Routes>
      <Route path={ROUTES.Fleet} element={<FleetPage />} />
      <Route path={`${ROUTES.Hosts}/:agentId/*`} element={<HostPage />} />
      <Route path={ROUTES.Audit} element={<AuditPage />} />
      <Route path="*" element={<Navigate replace to={ROUTES.Fleet} />} />
    </Routes>
  );
}

function App(_props: AppRootProps) {
  // One client and cache per mounted app, not module globals.
  const [queryClient] = useState(newQueryClient);
  const [apiClient] = useState(() => new FleetApiClient(getBackendSrv()));
  return (
    <QueryClientProvider client={queryClient}>
      <ApiClientProvider client={apiClient}>
        <AppRoutes />
      </ApiClientProvider>
    </QueryClientProvider>
  );
}

export default App;
