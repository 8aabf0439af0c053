import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { PinMismatchError } from './spki-pins.js';
import { TLS_REFUSAL_LOG_INTERVAL_MS, TlsRefusalLog, tlsRefusalOf } from './tls-refusal-log.js';

const EXPECTED = ['AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='];
const PRESENTED = ['8s777PJ85nIdwBV8E++zeZR/pr/yfZA/YAPWBxcLbEc='];
const URL = 'wss://127.0.0.1:8443/v1/opamp';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger(
    { level: 'info', debugSample: 0 },
    { destination: { write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) } },
  );
  return { lines, log };
}

function nodeError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('TLS refusals of the control plane certificate', () => {
  it('classifies pin mismatches and failed verifications, and nothing else', () => {
    expect(tlsRefusalOf(new PinMismatchError('127.0.0.1', EXPECTED, PRESENTED))).toEqual({
      code: 'tls_pin_mismatch',
      fields: { expectedPins: EXPECTED, presentedPins: PRESENTED },
    });
    expect(
      tlsRefusalOf(nodeError('UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer')),
    ).toMatchObject({
      code: 'tls_verify_failed',
      fields: { verifyError: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' },
    });
    expect(tlsRefusalOf(nodeError('ERR_TLS_CERT_ALTNAME_INVALID', 'altname'))?.code).toBe(
      'tls_verify_failed',
    );
    expect(tlsRefusalOf(nodeError('ECONNREFUSED', 'connect ECONNREFUSED'))).toBeUndefined();
    expect(tlsRefusalOf(new Error('socket hang up'))).toBeUndefined();
  });

  it('logs one line per distinct refusal and interval, naming expected and presented pins', () => {
    const { lines, log } = capture();
    let now = 1_000_000;
    const refusals = new TlsRefusalLog(log, () => now);
    const mismatch = () => new PinMismatchError('127.0.0.1', EXPECTED, PRESENTED);

    expect(refusals.report(URL, mismatch())).toBe(true);
    for (let attempt = 0; attempt < 20; attempt++) {
      now += 10_000; // the backoff retrying the same URL
      refusals.report(URL, mismatch());
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'error',
      code: 'tls_pin_mismatch',
      url: URL,
      expectedPins: EXPECTED,
      presentedPins: PRESENTED,
    });

    // Another certificate is news at once; the same one again after the interval, with a count.
    refusals.report(URL, new PinMismatchError('127.0.0.1', EXPECTED, EXPECTED));
    expect(lines).toHaveLength(2);
    now += TLS_REFUSAL_LOG_INTERVAL_MS;
    refusals.report(URL, mismatch());
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ code: 'tls_pin_mismatch', repeatedSinceLastLine: 20 });

    expect(refusals.report(URL, nodeError('ECONNREFUSED', 'refused'))).toBe(false);
    expect(lines).toHaveLength(3);
  });
});
