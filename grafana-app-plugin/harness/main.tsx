/**
 * Mounts the plugin's real module (its root page and its configuration page) the way Grafana
 * does, with real React, react-router, react-query, @grafana/ui, @grafana/data and
 * @grafana/runtime. Only the runtime's backend service is stood in for (FetchBackendSrv), and
 * index.html supplies the boot data Grafana's page would.
 */
import type { AppPluginMeta, KeyValue } from '@grafana/data';
import { config, setBackendSrv } from '@grafana/runtime';
import { GlobalStyles, PortalContainer, ThemeContext } from '@grafana/ui';
import React from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Route, Routes } from 'react-router-dom';

import type { FleetJsonData } from '../src/components/AppConfig/settings';
import { PLUGIN_BASE_URL, PLUGIN_ID, SETTINGS_URL } from '../src/constants';
import { plugin } from '../src/module';
import { FetchBackendSrv } from '../src/test/backendSrv';

const NO_QUERY: KeyValue = {};

function Harness({ meta }: { meta: AppPluginMeta<FleetJsonData> }) {
  const Root = plugin.root;
  const configPage = plugin.configPages?.[0];
  return (
    <ThemeContext.Provider value={config.theme2}>
      <GlobalStyles />
      <main style={{ padding: 16 }}>
        <BrowserRouter>
          <Routes>
            <Route
              path={`${PLUGIN_BASE_URL}/*`}
              element={
                Root ? (
                  <Root
                    meta={meta}
                    basename={PLUGIN_BASE_URL}
                    query={NO_QUERY}
                    path={window.location.pathname}
                    onNavChanged={() => undefined}
                  />
                ) : (
                  <p>The plugin has no root page.</p>
                )
              }
            />
            <Route
              path={`/plugins/${PLUGIN_ID}`}
              element={
                configPage ? (
                  <configPage.body plugin={plugin} query={NO_QUERY} />
                ) : (
                  <p>The plugin has no configuration page.</p>
                )
              }
            />
          </Routes>
        </BrowserRouter>
      </main>
      <PortalContainer />
    </ThemeContext.Provider>
  );
}

async function boot(): Promise<void> {
  const backend = new FetchBackendSrv();
  setBackendSrv(backend.asBackendSrv());
  // Grafana loads the plugin's settings (never its secrets) before it shows the plugin.
  const meta = await backend.get<AppPluginMeta<FleetJsonData>>(SETTINGS_URL);
  plugin.meta = meta;
  const container = document.getElementById('root');
  if (!container) {
    throw new Error('index.html has no #root element');
  }
  createRoot(container).render(<Harness meta={meta} />);
}

boot().catch((error: unknown) => {
  document.body.textContent = `harness failed to start: ${String(error)}`;
});
