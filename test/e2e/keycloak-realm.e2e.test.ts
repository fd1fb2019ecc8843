import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getClientCredentialsToken, startKeycloak, type RunningKeycloak } from '../../scripts/keycloak.js';

const REALM = 'inference-gateway-realm';
const CLIENT = 'inference-gateway-client';
const SECRET = 'your-client-secret';
const NOAUD_CLIENT = 'inference-gateway-client-noaud';
const NOAUD_SECRET = 'noaud-client-secret';
const ROLE = 'llm-user';

// A cold cache downloads Keycloak and builds its DB template before the first start.
const START_TIMEOUT_MS = 480_000;

const audiences = (payload: JWTPayload): string[] => [payload.aud ?? []].flat();
const realmRoles = (payload: JWTPayload): string[] => (payload.realm_access as { roles?: string[] } | undefined)?.roles ?? [];

async function tokenStatus(kc: RunningKeycloak, clientId: string, clientSecret: string): Promise<number> {
  const res = await fetch(kc.tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
  });
  await res.body?.cancel();
  return res.status;
}

describe('inference-gateway realm on a real Keycloak', () => {
  let kc: RunningKeycloak;
  let jwks: ReturnType<typeof createRemoteJWKSet>;

  beforeAll(async () => {
    kc = await startKeycloak();
    jwks = createRemoteJWKSet(new URL(kc.jwksUrl));
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await kc?.stop();
  });

  it('imports the realm: discovery names the realm issuer', async () => {
    const res = await fetch(`${kc.baseUrl}/realms/${REALM}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const discovery = (await res.json()) as { issuer: string; token_endpoint: string; jwks_uri: string };
    expect(discovery.issuer).toBe(`${kc.baseUrl}/realms/${REALM}`);
    expect(kc.issuer).toBe(discovery.issuer);
    expect(kc.tokenUrl).toBe(discovery.token_endpoint);
    expect(kc.jwksUrl).toBe(discovery.jwks_uri);
  });

  it('issues a client-credentials token carrying the gateway audience, azp, issuer and role', async () => {
    const token = await getClientCredentialsToken(kc.tokenUrl, CLIENT, SECRET);
    // Verified the way the gateway will: signature against the JWKS, issuer and audience.
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: kc.issuer, audience: CLIENT, algorithms: ['RS256'] });
    expect(protectedHeader.alg).toBe('RS256');
    expect(audiences(payload)).toContain(CLIENT);
    expect(payload.azp).toBe(CLIENT);
    expect(payload.iss).toBe(kc.issuer);
    expect(realmRoles(payload)).toContain(ROLE);
    expect(payload.exp! - payload.iat!).toBe(300);
  });

  it('publishes an RS256 signing key in the JWKS', async () => {
    const { keys } = (await (await fetch(kc.jwksUrl)).json()) as { keys: { use?: string; alg?: string; kty?: string }[] };
    expect(keys).toContainEqual(expect.objectContaining({ use: 'sig', alg: 'RS256', kty: 'RSA' }));
  });

  it('rejects a wrong client secret with 401', async () => {
    expect(await tokenStatus(kc, CLIENT, 'not-the-secret')).toBe(401);
    await expect(getClientCredentialsToken(kc.tokenUrl, CLIENT, 'not-the-secret')).rejects.toThrow(/HTTP 401/);
  });

  it('gives the noaud client a valid token without the gateway audience', async () => {
    const token = await getClientCredentialsToken(kc.tokenUrl, NOAUD_CLIENT, NOAUD_SECRET);
    const payload = decodeJwt(token);
    expect(payload.azp).toBe(NOAUD_CLIENT);
    expect(audiences(payload)).not.toContain(CLIENT);
    // Same signature, issuer and role as a good token: only the audience check can reject it.
    expect(realmRoles(payload)).toContain(ROLE);
    await expect(jwtVerify(token, jwks, { issuer: kc.issuer })).resolves.toBeDefined();
    await expect(jwtVerify(token, jwks, { issuer: kc.issuer, audience: CLIENT })).rejects.toMatchObject({
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      claim: 'aud',
    });
  });
});

describe('realm client secrets come from environment placeholders', () => {
  let kc: RunningKeycloak;

  beforeAll(async () => {
    kc = await startKeycloak({
      env: { KC_GATEWAY_CLIENT_SECRET: 'rotated-gateway-secret', KC_GATEWAY_NOAUD_CLIENT_SECRET: 'rotated-noaud-secret' },
    });
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await kc?.stop();
  });

  it('uses the environment values instead of the dev defaults', async () => {
    expect(await tokenStatus(kc, CLIENT, 'rotated-gateway-secret')).toBe(200);
    expect(await tokenStatus(kc, CLIENT, SECRET)).toBe(401);
    expect(await tokenStatus(kc, NOAUD_CLIENT, 'rotated-noaud-secret')).toBe(200);
    expect(await tokenStatus(kc, NOAUD_CLIENT, NOAUD_SECRET)).toBe(401);
  });
});
