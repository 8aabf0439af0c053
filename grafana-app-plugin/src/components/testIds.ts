/** data-testid values shared by the pages and their tests (and later the browser tests). */
export const testIds = {
  appConfig: {
    container: 'data-testid ac-container',
    apiUrl: 'data-testid ac-api-url',
    readToken: 'data-testid ac-read-token',
    actToken: 'data-testid ac-act-token',
    save: 'data-testid ac-save',
    testConnection: 'data-testid ac-test-connection',
    testResult: 'data-testid ac-test-result',
  },
  state: {
    loading: 'data-testid state-loading',
    error: 'data-testid state-error',
    empty: 'data-testid state-empty',
    stale: 'data-testid state-stale',
  },
  fleet: {
    container: 'data-testid fleet-container',
    filter: 'data-testid fleet-filter',
    table: 'data-testid fleet-table',
    loadMore: 'data-testid fleet-load-more',
  },
  host: {
    container: 'data-testid host-container',
    tabProcesses: 'data-testid host-tab-processes',
    tabWindows: 'data-testid host-tab-windows',
  },
  processes: {
    filter: 'data-testid processes-filter',
    table: 'data-testid processes-table',
    sortBy: (column: string) => `data-testid processes-sort-${column}`,
    action: (pid: number, action: string) => `data-testid processes-${action}-${pid}`,
    reason: 'data-testid processes-reason',
    confirm: 'data-testid processes-confirm',
    result: 'data-testid processes-result',
  },
  windows: {
    table: 'data-testid windows-table',
    action: (windowId: string, action: string) => `data-testid windows-${action}-${windowId}`,
    result: 'data-testid windows-result',
  },
  audit: {
    container: 'data-testid audit-container',
    agent: 'data-testid audit-agent',
    actor: 'data-testid audit-actor',
    action: 'data-testid audit-action',
    since: 'data-testid audit-since',
    until: 'data-testid audit-until',
    apply: 'data-testid audit-apply',
    table: 'data-testid audit-table',
    loadMore: 'data-testid audit-load-more',
  },
};
