import type { AppPluginMeta, PluginConfigPageProps, PluginMeta } from '@grafana/data';
import { getBackendSrv, locationService } from '@grafana/runtime';
import { Alert, Button, Field, FieldSet, Input, SecretInput } from '@grafana/ui';
import React, { useState } from 'react';

import { FleetApiClient } from '../../api/client';
import { toApiError } from '../../api/problem';
import { testIds } from '../testIds';
import {
  type FleetJsonData,
  normaliseApiUrl,
  saveSettings,
  type SecretName,
  type SettingsUpdate,
} from './settings';

export type AppConfigProps = PluginConfigPageProps<AppPluginMeta<FleetJsonData>>;

interface SecretState {
  value: string;
  configured: boolean;
  /** The user pressed reset: send an empty value so Grafana drops the stored secret. */
  reset: boolean;
}

type TestResult = { ok: true; message: string } | { ok: false; message: string };

function initialSecret(plugin: PluginMeta<FleetJsonData>, name: SecretName): SecretState {
  return { value: '', configured: Boolean(plugin.secureJsonFields?.[name]), reset: false };
}

function secretUpdate(secrets: Record<SecretName, SecretState>): SettingsUpdate['secureJsonData'] {
  const out: Partial<Record<SecretName, string>> = {};
  for (const name of Object.keys(secrets) as SecretName[]) {
    const secret = secrets[name];
    if (secret.value !== '') {
      out[name] = secret.value;
    } else if (secret.reset) {
      out[name] = '';
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

const SECRET_FIELDS: Array<{
  name: SecretName;
  label: string;
  description: string;
  testId: string;
}> = [
  {
    name: 'readToken',
    label: 'Read token',
    description:
      'Service token for viewing (viewer role). Sent by Grafana on GET requests from Viewers and up.',
    testId: testIds.appConfig.readToken,
  },
  {
    name: 'actToken',
    label: 'Action token',
    description:
      'Service token for actions (operator role). Sent by Grafana on POST requests from Editors and up.',
    testId: testIds.appConfig.actToken,
  },
];

export default function AppConfig({ plugin }: AppConfigProps) {
  const { enabled, jsonData } = plugin.meta;
  const [apiUrl, setApiUrl] = useState(jsonData?.apiUrl ?? '');
  const [secrets, setSecrets] = useState<Record<SecretName, SecretState>>({
    readToken: initialSecret(plugin.meta, 'readToken'),
    actToken: initialSecret(plugin.meta, 'actToken'),
  });
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [testing, setTesting] = useState(false);
  const [testResult, setTestResult] = useState<TestResult | null>(null);

  const urlValid = /^https?:\/\/[^\s]+$/.test(normaliseApiUrl(apiUrl));
  const setSecret = (name: SecretName, next: Partial<SecretState>) =>
    setSecrets((current) => ({ ...current, [name]: { ...current[name], ...next } }));

  const save = async (enable: boolean) => {
    setSaving(true);
    setSaveError(null);
    try {
      await saveSettings(getBackendSrv(), {
        enabled: enable,
        pinned: enable,
        jsonData: { ...jsonData, apiUrl: normaliseApiUrl(apiUrl) },
        secureJsonData: secretUpdate(secrets),
      });
      // Grafana keeps plugin settings in its boot data; a reload is the supported way to refresh it.
      locationService.reload();
    } catch (error) {
      setSaveError(toApiError(error).detail);
    } finally {
      setSaving(false);
    }
  };

  const testConnection = async () => {
    setTesting(true);
    setTestResult(null);
    try {
      const me = await new FleetApiClient(getBackendSrv()).me();
      setTestResult({
        ok: true,
        message: `Connected. The read token acts as “${me.username}” (role ${me.role}).`,
      });
    } catch (error) {
      const e = toApiError(error);
      setTestResult({ ok: false, message: `${e.detail} (${e.code})` });
    } finally {
      setTesting(false);
    }
  };

  return (
    <div data-testid={testIds.appConfig.container}>
      <FieldSet label="Control API">
        <Field
          label="Control API URL"
          description="Where Grafana's server reaches the CyberCorp control API, e.g. http://127.0.0.1:8080"
          invalid={apiUrl !== '' && !urlValid}
          error="Enter an http:// or https:// URL"
        >
          <Input
            data-testid={testIds.appConfig.apiUrl}
            width={60}
            value={apiUrl}
            placeholder="http://127.0.0.1:8080"
            onChange={(e) => setApiUrl(e.currentTarget.value)}
          />
        </Field>
        {SECRET_FIELDS.map(({ name, label, description, testId }) => (
          <Field key={name} label={label} description={description}>
            <SecretInput
              data-testid={testId}
              width={60}
              isConfigured={secrets[name].configured}
              value={secrets[name].value}
              placeholder="Paste a service token"
              onChange={(e) => setSecret(name, { value: e.currentTarget.value })}
              onReset={() => setSecret(name, { value: '', configured: false, reset: true })}
            />
          </Field>
        ))}
      </FieldSet>
      {saveError && (
        <Alert severity="error" title="Settings were not saved">
          {saveError}
        </Alert>
      )}
      <div style={{ display: 'flex', gap: 8 }}>
        <Button
          data-testid={testIds.appConfig.save}
          disabled={!urlValid || saving}
          onClick={() => void save(true)}
        >
          {enabled ? 'Save settings' : 'Save and enable'}
        </Button>
        {enabled && (
          <Button
            variant="destructive"
            fill="outline"
            disabled={saving}
            onClick={() => void save(false)}
          >
            Disable
          </Button>
        )}
        <Button
          data-testid={testIds.appConfig.testConnection}
          variant="secondary"
          disabled={!enabled || testing}
          onClick={() => void testConnection()}
        >
          {testing ? 'Testing…' : 'Test connection'}
        </Button>
      </div>
      {!enabled && (
        <p>Save and enable the app first: the test goes through Grafana with the saved settings.</p>
      )}
      {testResult && (
        <div data-testid={testIds.appConfig.testResult} style={{ marginTop: 16 }}>
          <Alert
            severity={testResult.ok ? 'success' : 'error'}
            title={testResult.ok ? 'Connection works' : 'Connection failed'}
          >
            {testResult.message}
          </Alert>
        </div>
      )}
    </div>
  );
}
