import type { BackendFetcher } from '../../api/client';
import { SETTINGS_URL } from '../../constants';
import { toApiError } from '../../api/problem';
import { lastValueFrom } from 'rxjs';

export interface FleetJsonData {
  /** Base URL of the control API as Grafana's server reaches it, e.g. http://127.0.0.1:8080 */
  apiUrl?: string;
}

/** Names of the secrets in secureJsonData; Grafana only ever tells whether each is set. */
export type SecretName = 'readToken' | 'actToken';

export interface SettingsUpdate {
  enabled: boolean;
  pinned: boolean;
  jsonData: FleetJsonData;
  /** Only secrets being set or reset; a reset sends an empty string. */
  secureJsonData?: Partial<Record<SecretName, string>>;
}

export function normaliseApiUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

export async function saveSettings(backend: BackendFetcher, update: SettingsUpdate): Promise<void> {
  try {
    await lastValueFrom(
      backend.fetch({ url: SETTINGS_URL, method: 'POST', data: update, showErrorAlert: false }),
    );
  } catch (error) {
    throw toApiError(error);
  }
}
