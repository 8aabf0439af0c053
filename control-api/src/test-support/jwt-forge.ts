/**
 * Builds the tokens an attacker would send (RFC 8725): compact JWS written by hand, so that
 * headers no honest library produces (`alg: none`, an HMAC under an RSA name) can be tried, and
 * claim-level forgeries signed with the API's real key, read from the file it generated.
 */
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import { JWT_KEY_FILE_NAME, parseKeyFile } from '../auth/signing-keys.js';
import { ApiClient, type TokenPair } from './rest-client.js';
import { ADMIN, type TestApi } from './test-api.js';

export interface SigningKey {
  kid: string;
  secret: Uint8Array;
}

export type JsonObject = Record<string, unknown>;

/** The key the API signs with now: the newest key not retired in `<dataDir>/jwt-keys.json`. */
export async function readSigningKey(dataDir: string): Promise<SigningKey> {
  const file = path.join(dataDir, JWT_KEY_FILE_NAME);
  const active = parseKeyFile(await readFile(file, 'utf8'), file)
    .filter((k) => k.retiredAt === undefined)
    .sort((a, b) => b.createdAt - a.createdAt)[0];
  if (!active) throw new Error(`${file} holds no active key`);
  return { kid: active.kid, secret: active.secret };
}

export const base64url = (value: JsonObject | string | Uint8Array) =>
  Buffer.from(
    typeof value === 'string' || value instanceof Uint8Array ? value : JSON.stringify(value),
  ).toString('base64url');

/** `header.payload.signature`; `sign` gets the signing input and returns the third part. */
export function compactJws(
  header: JsonObject,
  payload: JsonObject,
  sign: (signingInput: string) => string = () => '',
): string {
  const signingInput = `${base64url(header)}.${base64url(payload)}`;
  return `${signingInput}.${sign(signingInput)}`;
}

/** An HMAC over the signing input with `secret`, whatever `alg` the header claims. */
export const hmacWith =
  (hash: 'sha256' | 'sha384' | 'sha512', secret: Uint8Array) => (signingInput: string) =>
    createHmac(hash, secret).update(signingInput).digest('base64url');

/** The header and claims of a token the API issued, to be altered one field at a time. */
export function partsOf(token: string): { header: JsonObject; payload: JWTPayload & JsonObject } {
  return {
    header: { ...decodeProtectedHeader(token) },
    payload: { ...decodeJwt(token) },
  };
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Signs `payload` under `header` the honest way, with the API's real HS256 key. */
export const signedWith = (key: SigningKey, header: JsonObject, payload: JsonObject) =>
  compactJws(header, payload, hmacWith('sha256', key.secret));

export interface Forgery {
  /** A real admin login: its access token is the template of every forgery. */
  adminPair: TokenPair;
  key: SigningKey;
  header: JsonObject;
  claims: JWTPayload & JsonObject;
}

/** Logs in as the admin on `api` and reads the key that signed the token. */
export async function startForgery(api: TestApi): Promise<Forgery> {
  const adminPair = await new ApiClient(api.url).login(ADMIN.username, ADMIN.password);
  const key = await readSigningKey(api.dataDir);
  const { header, payload: claims } = partsOf(adminPair.accessToken);
  return { adminPair, key, header, claims };
}
