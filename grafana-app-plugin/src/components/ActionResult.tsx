import type { ActionResult as CommandOutcome, ErrorCode } from '@cybercorp/protocol';
import { Alert } from '@grafana/ui';
import React from 'react';

import type { ApiError } from '../api/problem';

/** A refusal is a normal answer, not a crash: `protected_process` is said plainly. */
// Keyed by the protocol's codes (`satisfies`), so a misspelt one does not compile.
const REFUSAL_TITLES: Record<string, string> = {
  protected_process: 'Refused by the agent: the process is protected',
  control_disabled: 'Refused by the agent: remote control is switched off on this host',
  forbidden: 'Refused: the service token may not do this',
  agent_offline: 'The agent is offline',
  agent_timeout: 'The agent did not answer in time',
  outcome_unknown:
    'Outcome unknown: the agent disconnected before answering, so the action may or may not have been carried out',
  no_such_process: 'The process no longer exists',
  process_changed: 'The process has changed: its pid now belongs to another process',
  no_such_window: 'The window no longer exists',
  capability_missing: 'The agent does not support this',
  deadline_exceeded: 'Not carried out: the command reached the agent after its deadline',
  action_failed: 'The agent could not carry it out',
  no_such_agent: 'The control API no longer knows this agent',
  relay_unavailable: 'Not sent: the control API cannot reach the agent while Redis is unavailable',
  redis_unavailable: 'The control API cannot reach Redis, which its instances share',
  database_unavailable: 'The control API cannot reach its database',
  rate_limited: 'Too many requests: the control API asks to wait',
  unauthorized: "Refused: the control API does not accept the plugin's service token",
} satisfies Partial<Record<ErrorCode, string>>;

/** What to do next, where the title alone would leave the operator guessing. */
const NEXT_STEPS: Record<string, string> = {
  outcome_unknown: 'Check the target before trying again.',
  relay_unavailable: 'Nothing was done; it is safe to try again shortly.',
  unauthorized: "An administrator must check the tokens in the plugin's configuration.",
} satisfies Partial<Record<ErrorCode, string>>;

export interface ActionResultProps {
  label: string;
  outcome?: CommandOutcome;
  error?: ApiError | null;
  testId: string;
  onDismiss: () => void;
}

export function ActionResult({ label, outcome, error, testId, onDismiss }: ActionResultProps) {
  if (error) {
    return (
      <div data-testid={testId}>
        <Alert
          // Not known to have failed: the agent may well have done it.
          severity={error.code === 'outcome_unknown' ? 'warning' : 'error'}
          title={REFUSAL_TITLES[error.code] ?? `${label} failed`}
          onRemove={onDismiss}
        >
          {error.detail} <code>({error.code})</code>
          {NEXT_STEPS[error.code] ? ` ${NEXT_STEPS[error.code]}` : null}
        </Alert>
      </div>
    );
  }
  if (outcome) {
    return (
      <div data-testid={testId}>
        <Alert severity="success" title={`${label}: ${outcome.status}`} onRemove={onDismiss}>
          Command <code>{outcome.commandId}</code>
        </Alert>
      </div>
    );
  }
  return null;
}
