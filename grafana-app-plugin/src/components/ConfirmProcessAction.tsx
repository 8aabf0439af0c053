import type { ProcessAction, ProcessInfo } from '@cybercorp/protocol';
import { Button, Field, Modal, TextArea } from '@grafana/ui';
import React, { useState } from 'react';

import { testIds } from './testIds';

const CONSEQUENCE: Record<ProcessAction, string> = {
  terminate: 'asks the process to exit (SIGTERM)',
  kill: 'ends the process at once, without cleanup (SIGKILL)',
  suspend: 'stops the process until it is resumed (SIGSTOP)',
  resume: 'lets a suspended process run again (SIGCONT)',
};

export interface ConfirmProcessActionProps {
  process: ProcessInfo;
  action: ProcessAction;
  hostname: string;
  busy: boolean;
  onConfirm: (reason: string) => void;
  onDismiss: () => void;
}

/** Every process action is confirmed and carries a reason, which lands in the audit log. */
export function ConfirmProcessAction({
  process,
  action,
  hostname,
  busy,
  onConfirm,
  onDismiss,
}: ConfirmProcessActionProps) {
  const [reason, setReason] = useState('');
  const trimmed = reason.trim();
  return (
    <Modal title={`${action} ${process.name} (pid ${process.pid})?`} isOpen onDismiss={onDismiss}>
      <p>
        On <strong>{hostname}</strong>, <code>{action}</code> {CONSEQUENCE[action]}. The action and
        its reason are recorded in the audit log.
      </p>
      <Field label="Reason" description="Why this is needed; required." required>
        <TextArea
          data-testid={testIds.processes.reason}
          autoFocus
          value={reason}
          onChange={(e) => setReason(e.currentTarget.value)}
          rows={3}
        />
      </Field>
      <Modal.ButtonRow>
        <Button variant="secondary" fill="outline" onClick={onDismiss}>
          Cancel
        </Button>
        <Button
          data-testid={testIds.processes.confirm}
          variant={action === 'kill' || action === 'terminate' ? 'destructive' : 'primary'}
          disabled={trimmed.length === 0 || busy}
          onClick={() => onConfirm(trimmed)}
        >
          {busy ? 'Sending…' : `Confirm ${action}`}
        </Button>
      </Modal.ButtonRow>
    </Modal>
  );
}
