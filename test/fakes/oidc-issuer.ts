/**
 * A local OIDC issuer on a real loopback server: discovery document, a JWKS that (like Keycloak's)
 * also lists an encryption key, RSA keys made with node:crypto, and a token minting helper.
 */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SignJWT, exportJWK, type JWK, type JWTPayload } from 'jose';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
}

export interface OidcIssuer {
  readonly issuer: string;
  readonly realmPath: string;
  /** How many times the JWKS was fetched. */
  jwksFetches: number;
  /** Keys published in the JWKS; the first signs by default. */
  keys: SigningKey[];
  newKey(): Promise<SigningKey>;
  token(claims?: JWTPayload, options?: { key?: SigningKey; alg?: string; expiresIn?: string | number; header?: Record<string, unknown> }): Promise<string>;
  /** While down, every request is answered by dropping the connection. */
  setDown(down: boolean): void;
  /** Delays every answer by `ms` (0: answer at once), like an overloaded identity provider. */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

export async function startOidcIssuer(options: { audience?: string } = {}): Promise<OidcIssuer> {
  const realmPath = '/realms/inference-gateway-realm';
  const audience = options.audience ?? 'inference-gateway-client';
  let down = false;
  let delayMs = 0;
  const sockets = new Set<Socket>();
  const encKey = await makeKey();
  const state = { jwksFetches: 0 };
  let issuer = '';
  const keys: SigningKey[] = [await makeKey()];

  const server: Server = createServer(async (req, res) => {
    if (down) return void req.socket.destroy();
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (res.destroyed) return;
    if (req.url === `${realmPath}/.well-known/openid-configuration`) {
      return json(res, { issuer, jwks_uri: `${issuer}/protocol/openid-connect/certs`, token_endpoint: `${issuer}/protocol/openid-connect/token` });
    }
    if (req.url === `${realmPath}/protocol/openid-connect/certs`) {
      state.jwksFetches++;
      return json(res, {
        keys: [
          ...keys.map((k) => ({ ...k.publicJwk, kid: k.kid, use: 'sig', alg: 'RS256' })),
          { ...encKey.publicJwk, kid: encKey.kid, use: 'enc', alg: 'RSA-OAEP' },
        ],
      });
    }
    res.writeHead(404).end();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}${realmPath}`;

  return {
    issuer,
    realmPath,
    get jwksFetches() {
      return state.jwksFetches;
    },
    set jwksFetches(n: number) {
      state.jwksFetches = n;
    },
    keys,
    async newKey() {
      return makeKey();
    },
    async token(claims = {}, opts = {}) {
      const key = opts.key ?? keys[0]!;
      const jwt = new SignJWT({ azp: audience, realm_access: { roles: ['llm-user'] }, ...claims })
        .setProtectedHeader({ alg: opts.alg ?? 'RS256', kid: key.kid, typ: 'JWT', ...opts.header })
        .setIssuedAt()
        .setIssuer((claims.iss as string) ?? issuer)
        .setSubject((claims.sub as string) ?? 'service-account-1')
        .setAudience((claims.aud as string | string[]) ?? [audience, 'account']);
      if (opts.expiresIn !== undefined) jwt.setExpirationTime(opts.expiresIn);
      else if (claims.exp === undefined) jwt.setExpirationTime('5m');
      return jwt.sign(key.privateKey);
    },
    setDelay(ms) {
      delayMs = ms;
    },
    setDown(value) {
      down = value;
      if (down) for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function makeKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid: randomUUID(), privateKey, publicJwk: await exportJWK(publicKey) };
}

function json(res: import('node:http').ServerResponse, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
