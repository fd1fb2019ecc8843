import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getClientCredentialsToken, startKeycloak, type RunningKeycloak } from '../../scripts/keycloak.js';

const REALM = 'inference-gateway-realm';
const CLIENT = 'inference-gateway-client';
const SECRET = 'your-client-secret';
const NOAUD_CLIENT = 'inference-gateway-client-noaud';
const NOAUD_SECRET = 'noaud-client-secret';
const ROLE = 'llm-user';
const WEB_CLIENT = 'inference-gateway-web';
const WEB_REDIRECT_URI = 'http://localhost:5173/callback';
const DEVELOPER = 'developer';
const DEVELOPER_PASSWORD = 'developer';

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

/** A PKCE pair as RFC 7636 defines it: a 43-character base64url verifier and its S256 challenge. */
function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The authorization endpoint URL for the web client; `params` override or add to the defaults (`undefined` drops one). */
function authorizationUrl(kc: RunningKeycloak, params: Record<string, string | undefined>): string {
  const all: Record<string, string | undefined> = {
    client_id: WEB_CLIENT,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: WEB_REDIRECT_URI,
    state: randomBytes(8).toString('hex'),
    ...params,
  };
  const query = new URLSearchParams(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
  return `${kc.issuer}/protocol/openid-connect/auth?${query}`;
}

/** Keycloak's login form keeps its session in cookies (AUTH_SESSION_ID, KC_RESTART…): what a browser would send back. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (!value || /;\s*max-age=0\b/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

const htmlUnescape = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');

/**
 * What a browser does between "Sign in" and the app's callback, over plain HTTP: open the
 * authorization URL, read Keycloak's login form, post the credentials with the session cookies,
 * and stop at the redirect to the app (nothing listens on :5173 here). Returns Keycloak's answer to
 * the form: the redirect (`location`) on success, else the status and the page (e.g. a login error).
 */
async function signIn(authUrl: string, username: string, password: string): Promise<{ status: number; location?: URL; page: string }> {
  const jar = new CookieJar();
  const form = await fetch(authUrl, { redirect: 'manual' });
  jar.store(form);
  const loginPage = await form.text();
  if (form.status !== 200) throw new Error(`authorization request answered HTTP ${form.status} ${form.headers.get('location') ?? loginPage.slice(0, 300)}`);
  const action = /<form\b[^>]*\bid="kc-form-login"[^>]*\baction="([^"]+)"/.exec(loginPage)?.[1];
  if (!action) throw new Error(`no login form in Keycloak's page:\n${loginPage.slice(0, 500)}`);
  const res = await fetch(htmlUnescape(action), {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: jar.header() },
    body: new URLSearchParams({ username, password, credentialId: '' }),
  });
  const page = await res.text();
  const location = res.headers.get('location');
  return { status: res.status, location: location ? new URL(location) : undefined, page };
}

/** The token endpoint's answer to an authorization code, as the web client (public: no secret) redeems it. */
async function redeemCode(kc: RunningKeycloak, code: string, verifier: string | undefined, headers: Record<string, string> = {}) {
  const res = await fetch(kc.tokenUrl, {
    method: 'POST',
    headers,
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: WEB_CLIENT,
      code,
      redirect_uri: WEB_REDIRECT_URI,
      ...(verifier === undefined ? {} : { code_verifier: verifier }),
    }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, string> };
}

/** An admin API token for the bootstrap admin (admin/admin, set by scripts/keycloak.ts). */
async function adminToken(kc: RunningKeycloak): Promise<string> {
  const res = await fetch(`${kc.baseUrl}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: 'admin', password: 'admin' }),
  });
  if (!res.ok) throw new Error(`admin token: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function adminGet<T>(kc: RunningKeycloak, path: string): Promise<T> {
  const res = await fetch(`${kc.baseUrl}/admin/realms/${REALM}${path}`, { headers: { authorization: `Bearer ${await adminToken(kc)}` } });
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
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

  describe('the browser client inference-gateway-web', () => {
    it('is imported as a public client with the authorization code flow only, PKCE S256, the dev-server redirect URIs and web origins "+"', async () => {
      const [client] = await adminGet<Record<string, any>[]>(kc, `/clients?clientId=${WEB_CLIENT}`);
      expect(client).toMatchObject({
        clientId: WEB_CLIENT,
        enabled: true,
        protocol: 'openid-connect',
        publicClient: true,
        bearerOnly: false,
        standardFlowEnabled: true,
        implicitFlowEnabled: false,
        directAccessGrantsEnabled: false,
        serviceAccountsEnabled: false,
        webOrigins: ['+'],
        attributes: expect.objectContaining({ 'pkce.code.challenge.method': 'S256' }),
      });
      expect(client!.redirectUris.sort()).toEqual(['http://127.0.0.1:5173/*', 'http://localhost:5173/*']);
      expect(client!.secret).toBeUndefined();
      expect(client!.protocolMappers).toContainEqual(
        expect.objectContaining({ protocolMapper: 'oidc-audience-mapper', config: expect.objectContaining({ 'included.client.audience': CLIENT, 'access.token.claim': 'true' }) }),
      );
    });

    it('imports the developer user enabled, email verified, profile complete, no required actions, realm role llm-user', async () => {
      const [user] = await adminGet<Record<string, any>[]>(kc, `/users?username=${DEVELOPER}&exact=true`);
      expect(user).toMatchObject({ username: DEVELOPER, enabled: true, emailVerified: true, requiredActions: [] });
      expect(user!.email && user!.firstName && user!.lastName).toBeTruthy();
      const roles = await adminGet<{ name: string }[]>(kc, `/users/${user!.id}/role-mappings/realm`);
      expect(roles.map((r) => r.name)).toContain(ROLE);
    });

    it('refuses an authorization request without code_challenge (PKCE required): back to the app with invalid_request, no login form', async () => {
      const res = await fetch(authorizationUrl(kc, { state: 'no-pkce' }), { redirect: 'manual' });
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`).toBe(WEB_REDIRECT_URI);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('error_description')).toMatch(/code_challenge/);
      expect(location.searchParams.get('state')).toBe('no-pkce');
      expect(location.searchParams.has('code')).toBe(false);
    });

    it('refuses code_challenge_method=plain: only S256 is accepted', async () => {
      const { verifier } = pkcePair();
      const res = await fetch(authorizationUrl(kc, { code_challenge: verifier, code_challenge_method: 'plain' }), { redirect: 'manual' });
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location')!);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('error_description')).toMatch(/code challenge method/i);
      expect(location.searchParams.has('code')).toBe(false);
    });

    it('refuses a redirect URI outside the registered ones', async () => {
      const { challenge } = pkcePair();
      const res = await fetch(authorizationUrl(kc, { redirect_uri: 'http://localhost:3000/callback', code_challenge: challenge, code_challenge_method: 'S256' }), {
        redirect: 'manual',
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      await res.body?.cancel();
    });

    it('refuses the password grant (direct access grants off), even with the right password', async () => {
      const res = await fetch(kc.tokenUrl, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'password', client_id: WEB_CLIENT, username: DEVELOPER, password: DEVELOPER_PASSWORD, scope: 'openid' }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'unauthorized_client' });
    });

    it('refuses the client-credentials grant: a public client has no service account', async () => {
      const res = await fetch(kc.tokenUrl, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: WEB_CLIENT }) });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(((await res.json()) as { error: string }).error).toMatch(/unauthorized_client|invalid_client/);
    });

    it('signs developer/developer in with authorization code + PKCE S256 over plain HTTP: the access token carries the gateway audience, azp, username and realm role', async () => {
      const { verifier, challenge } = pkcePair();
      const state = randomBytes(8).toString('hex');
      const login = await signIn(authorizationUrl(kc, { state, code_challenge: challenge, code_challenge_method: 'S256' }), DEVELOPER, DEVELOPER_PASSWORD);
      // Straight back to the app: no required action, no profile form in between.
      expect(login.status, login.page.slice(0, 300)).toBe(302);
      expect(`${login.location!.origin}${login.location!.pathname}`).toBe(WEB_REDIRECT_URI);
      expect(login.location!.searchParams.get('state')).toBe(state);
      expect(login.location!.searchParams.get('iss')).toBe(kc.issuer);
      const code = login.location!.searchParams.get('code');
      expect(code).toBeTruthy();

      // No client secret: the verifier is what proves the caller is the one that started the flow.
      const { status, body, headers } = await redeemCode(kc, code!, verifier, { origin: 'http://localhost:5173' });
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body.token_type).toBe('Bearer');
      // Web origins "+": a page served from a registered redirect URI's origin may call the token endpoint.
      expect(headers.get('access-control-allow-origin')).toBe('http://localhost:5173');

      // Verified the way the gateway verifies it.
      const { payload } = await jwtVerify(body.access_token!, jwks, { issuer: kc.issuer, audience: CLIENT, algorithms: ['RS256'] });
      expect(audiences(payload)).toContain(CLIENT);
      expect(payload.azp).toBe(WEB_CLIENT);
      expect(payload.preferred_username).toBe(DEVELOPER);
      expect(realmRoles(payload)).toContain(ROLE);
      expect(payload.exp! - payload.iat!).toBe(300);
    });

    it('refuses to redeem a code without the verifier, or with the wrong one', async () => {
      for (const verifier of [undefined, pkcePair().verifier]) {
        const { challenge } = pkcePair();
        const login = await signIn(authorizationUrl(kc, { code_challenge: challenge, code_challenge_method: 'S256' }), DEVELOPER, DEVELOPER_PASSWORD);
        const code = login.location?.searchParams.get('code');
        expect(code).toBeTruthy();
        const { status, body } = await redeemCode(kc, code!, verifier);
        expect(status).toBe(400);
        expect(body).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/PKCE/) });
      }
    });

    it('gives no token for a wrong password: the login form comes back with an error', async () => {
      const { challenge } = pkcePair();
      const login = await signIn(authorizationUrl(kc, { code_challenge: challenge, code_challenge_method: 'S256' }), DEVELOPER, 'not-the-password');
      expect(login.status).toBe(200);
      expect(login.location).toBeUndefined();
      expect(login.page).toMatch(/Invalid username or password/);
    });

    it('refuses to redeem a code for a page from an unregistered origin (web origins follow the redirect URIs): 403 Invalid origin', async () => {
      const { verifier, challenge } = pkcePair();
      const login = await signIn(authorizationUrl(kc, { code_challenge: challenge, code_challenge_method: 'S256' }), DEVELOPER, DEVELOPER_PASSWORD);
      const { status, headers, body } = await redeemCode(kc, login.location!.searchParams.get('code')!, verifier, { origin: 'http://localhost:3000' });
      expect(status).toBe(403);
      expect(body).toEqual({ error: 'Invalid origin' });
      expect(headers.get('access-control-allow-origin')).toBeNull();
    });
  });
});

describe('realm client secrets come from environment placeholders', () => {
  let kc: RunningKeycloak;

  beforeAll(async () => {
    kc = await startKeycloak({
      env: {
        KC_GATEWAY_CLIENT_SECRET: 'rotated-gateway-secret',
        KC_GATEWAY_NOAUD_CLIENT_SECRET: 'rotated-noaud-secret',
        KC_DEVELOPER_PASSWORD: 'rotated-developer-password',
      },
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

  it('takes the developer password from KC_DEVELOPER_PASSWORD', async () => {
    const { verifier, challenge } = pkcePair();
    const rotated = await signIn(authorizationUrl(kc, { code_challenge: challenge, code_challenge_method: 'S256' }), DEVELOPER, 'rotated-developer-password');
    expect(rotated.status, rotated.page.slice(0, 300)).toBe(302);
    const { status, body } = await redeemCode(kc, rotated.location!.searchParams.get('code')!, verifier);
    expect(status).toBe(200);
    expect(decodeJwt(body.access_token!).preferred_username).toBe(DEVELOPER);

    const dev = await signIn(authorizationUrl(kc, { code_challenge: challenge, code_challenge_method: 'S256' }), DEVELOPER, DEVELOPER_PASSWORD);
    expect(dev.status).toBe(200);
    expect(dev.page).toMatch(/Invalid username or password/);
  });
});
