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
});
