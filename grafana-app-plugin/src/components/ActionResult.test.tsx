import { render, screen } from '@testing-library/react';
import React from 'react';
import { describe, expect, it } from 'vitest';

import { ApiError } from '../api/problem';
import { ActionResult } from './ActionResult';

const show = (error: ApiError) =>
  render(<ActionResult label="kill" error={error} testId="result" onDismiss={() => undefined} />);

describe('ActionResult', () => {
  it('says plainly that a command whose agent disconnected may or may not have been carried out', () => {
    show(
      new ApiError(
        502,
        'outcome_unknown',
        'agent a-1 disconnected after the command was sent and before it answered',
      ),
    );
    const result = screen.getByTestId('result');
    expect(result).toHaveTextContent(
      'Outcome unknown: the agent disconnected before answering, so the action may or may not have been carried out',
    );
    expect(result).toHaveTextContent('Check the target before trying again.');
    expect(result).toHaveTextContent('(outcome_unknown)');
    expect(result).not.toHaveTextContent('The agent is offline');
  });

  it('keeps offline apart: the command was never sent', () => {
    show(new ApiError(503, 'agent_offline', 'agent a-1 is not connected'));
    const result = screen.getByTestId('result');
    expect(result).toHaveTextContent('The agent is offline');
    expect(result).not.toHaveTextContent('Outcome unknown');
    expect(result).not.toHaveTextContent('Check the target');
  });

  it('says that a command was not sent when the instances cannot reach each other, and may be retried', () => {
    show(
      new ApiError(
        503,
        'relay_unavailable',
        "agent a-1 is not connected to this instance, and Redis, through which instances reach each other's agents, is unavailable: the command was not sent",
      ),
    );
    const result = screen.getByTestId('result');
    expect(result).toHaveTextContent(
      'Not sent: the control API cannot reach the agent while Redis is unavailable',
    );
    expect(result).toHaveTextContent('Nothing was done; it is safe to try again shortly.');
    expect(result).toHaveTextContent('(relay_unavailable)');
    expect(result).not.toHaveTextContent('kill failed');
    expect(result).not.toHaveTextContent('The agent is offline');
  });

  it('names every other refusal an action can meet instead of a bare "failed"', () => {
    const cases: Array<[number, string, string]> = [
      [503, 'redis_unavailable', 'The control API cannot reach Redis, which its instances share'],
      [503, 'database_unavailable', 'The control API cannot reach its database'],
      [
        504,
        'deadline_exceeded',
        'Not carried out: the command reached the agent after its deadline',
      ],
      [502, 'action_failed', 'The agent could not carry it out'],
      [404, 'no_such_agent', 'The control API no longer knows this agent'],
      [429, 'rate_limited', 'Too many requests: the control API asks to wait'],
      [401, 'unauthorized', "Refused: the control API does not accept the plugin's service token"],
    ];
    for (const [status, code, title] of cases) {
      const { unmount } = show(new ApiError(status, code, `detail of ${code}`));
      const result = screen.getByTestId('result');
      expect(result).toHaveTextContent(title);
      expect(result).toHaveTextContent(`detail of ${code} (${code})`);
      expect(result).not.toHaveTextContent('kill failed');
      unmount();
    }
  });

  it('falls back to the label for a code it has no words for', () => {
    show(new ApiError(500, 'internal_error', 'unexpected error; it has been logged'));
    const result = screen.getByTestId('result');
    expect(result).toHaveTextContent('kill failed');
    expect(result).toHaveTextContent('unexpected error; it has been logged (internal_error)');
  });
});
