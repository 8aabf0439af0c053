import { Alert, LoadingPlaceholder } from '@grafana/ui';
import React from 'react';

import type { ApiError } from '../api/problem';
import { testIds } from './testIds';

export function Loading({ text }: { text: string }) {
  return (
    <div data-testid={testIds.state.loading}>
      <LoadingPlaceholder text={text} />
    </div>
  );
}

/** A failed request, with the API's own detail and stable code so an operator can act on it. */
export function ErrorState({ title, error }: { title: string; error: ApiError }) {
  return (
    <div data-testid={testIds.state.error}>
      <Alert severity="error" title={title}>
        {error.detail} <code>({error.code})</code>
      </Alert>
    </div>
  );
}

export function Empty({ children }: { children: React.ReactNode }) {
  return (
    <div data-testid={testIds.state.empty}>
      <Alert severity="info" title="Nothing to show">
        {children}
      </Alert>
    </div>
  );
}

/** A live list whose latest refresh failed: the last good list stays, marked as stale. */
export function RefreshError({
  what,
  error,
  updatedAt,
}: {
  what: string;
  error: ApiError;
  updatedAt: number;
}) {
  return (
    <div data-testid={testIds.state.stale}>
      <Alert
        severity="warning"
        title={`Could not refresh ${what}; showing the list from ${new Date(updatedAt).toLocaleTimeString()}`}
      >
        {error.detail} <code>({error.code})</code>
      </Alert>
    </div>
  );
}
