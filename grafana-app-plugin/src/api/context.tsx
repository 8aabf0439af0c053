import React, { createContext, useContext } from 'react';

import type { FleetApiClient } from './client';

const ApiClientContext = createContext<FleetApiClient | null>(null);

export function ApiClientProvider({
  client,
  children,
}: {
  client: FleetApiClient;
  children: React.ReactNode;
}) {
  return <ApiClientContext.Provider value={client}>{children}</ApiClientContext.Provider>;
}

export function useApiClient(): FleetApiClient {
  const client = useContext(ApiClientContext);
  if (client === null) {
    throw new Error('useApiClient must be used inside <ApiClientProvider>');
  }
  return client;
}
