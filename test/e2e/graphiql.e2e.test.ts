/**
 * GraphiQL in a real browser (Debian's Chromium driven by playwright-core), against the real gateway
 * with a fake provider: once with auth off, once with auth on and a local OIDC issuer.
 *
 * It proves what unit tests cannot: the inlined GraphiQL page loads with no internet (every
 * non-loopback request is blocked and recorded), the schema introspection GraphiQL itself sends is
 * answered (the docs explorer lists the root types; it was once refused by the depth limit), the
 * headers editor's token reaches the gateway (also for "Re-fetch GraphQL schema"), a missing or
 * forged token surfaces as UNAUTHENTICATED in the page, and a subscription run from the page
 * streams over SSE to its final chunk.
 *
 * GraphiQL here is the Monaco-based 5.x bundled in @graphql-yoga/render-graphiql. Its editors are
 * found by their Monaco model URI (`…-operation.graphql`, `…-request-headers.json`), the result
 * pane and the docs explorer by their aria labels, the sidebar buttons by theirs; editor text is
 * read from Monaco's rendered lines.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page, type Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { startOidcIssuer, type OidcIssuer } from '../fakes/oidc-issuer.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];
const ARTIFACTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
/** How long to wait for the page to react (render, network round trip); never a fixed sleep. */
const UI_TIMEOUT = 15_000;
const SUBJECT = 'browser-user';

// Named operations: GraphiQL updates its selected operation name a moment after an edit (the tab
// title follows it). Running before that sends the previous name ("Cannot infer operation Models"),
// so each edit waits for the tab title to show the new name.
const MODELS_QUERY = 'query BrowserModels { models { id provider } me { subject } }';
const STREAM_SUBSCRIPTION =
  'subscription BrowserStream { chatCompletionStream(input: {model: "groq/model-a", messages: [{role: USER, content: "hello from the browser"}]}) { choices { delta { content } } usage { totalTokens } } }';

const isLoopback = (hostname: string) => hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
/** In-page URLs (Monaco's workers are blob: URLs) never touch the network. */
const isInPage = (protocol: string) => protocol === 'blob:' || protocol === 'data:';

/** One Chromium with one page that may reach loopback only; what it was refused, let through and threw is recorded. */
interface BrowserSession {
  browser: Browser;
  page: Page;
  /** Requests the route handler refused because they left the machine. */
  blocked: string[];
  /** Loopback requests the route handler let through: shows the interception is really active. */
  allowed: string[];
  pageErrors: string[];
  /** The page's console.error lines (Chromium logs every 4xx/5xx response there too). */
  consoleErrors: string[];
}

async function launchBrowser(): Promise<BrowserSession> {
  // Fail, not skip: a missing browser must not turn this test green.
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium: apt-get install chromium`);
  mkdirSync(ARTIFACTS, { recursive: true });
  const session: Omit<BrowserSession, 'browser' | 'page'> = { blocked: [], allowed: [], pageErrors: [], consoleErrors: [] };

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  // Clipboard access lets result() read the response pane's exact text.
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (isInPage(url.protocol) || isLoopback(url.hostname)) {
      session.allowed.push(url.href);
      return route.continue();
    }
    session.blocked.push(url.href);
    return route.abort('blockedbyclient');
  });
  // context.route does not see WebSockets; hold them to the same rule.
  await context.routeWebSocket(/.*/, (ws) => {
    if (isLoopback(new URL(ws.url()).hostname)) return ws.connectToServer();
    session.blocked.push(ws.url());
    return ws.close();
  });
  const page = await context.newPage();
  page.on('pageerror', (error) => session.pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') session.consoleErrors.push(message.text());
  });
  return { browser, page, ...session };
}

/**
 * What a person reads and does on the GraphiQL page. The page is opened in a beforeAll, so the
 * helpers take it through a getter and read it when called.
 */
function graphiqlPage(currentPage: () => Page) {
  const page = () => currentPage();
  const editor = (uriSuffix: string): Locator => page().locator(`.monaco-editor[data-uri$="${uriSuffix}"]`);
  const queryEditor = () => editor('-operation.graphql');
  const headersEditor = () => editor('-request-headers.json');
  const resultPane = () => page().locator('section[aria-label="Result Window"]');
  const activeTabTitle = () => page().locator('.graphiql-tab-active .graphiql-tab-button');
  const executeButton = () => page().locator('.graphiql-toolbar').getByRole('button', { name: /^Execute query/ });
  const sidebarButton = (name: string | RegExp) => page().locator('.graphiql-sidebar').getByRole('button', { name, exact: true });
  /** "Re-fetch GraphQL schema (Shift-Ctrl-R)": the shortcut in the label depends on the platform. */
  const refetchSchemaButton = () => sidebarButton(/^Re-fetch GraphQL schema\b/);
  const docsExplorer = () => page().locator('section[aria-label="Documentation Explorer"]');
  const docsLink = (name: string) => docsExplorer().getByRole('link', { name, exact: true });

  /** The text Monaco renders (it draws spaces as non-breaking ones). */
  const renderedText = async (monaco: Locator) => (await monaco.locator('.view-lines').innerText()).replace(/\u00a0/g, ' ');

  /**
   * The result pane's JSON. Monaco wraps long lines in what it renders, so the text is copied
   * from the editor (select all, copy) and read back from the clipboard; while the pane is not
   * valid JSON (e.g. still empty) the raw text is returned, which no JSON expectation matches.
   */
  const result = async (): Promise<unknown> => {
    await resultPane().locator('.view-lines').click();
    await page().keyboard.press('ControlOrMeta+KeyA');
    await page().keyboard.press('ControlOrMeta+KeyC');
    const text = await page().evaluate(() => navigator.clipboard.readText());
    await page().keyboard.press('ArrowLeft'); // drops the selection again, for the screenshots
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };

  /** Replaces an editor's whole content, as a user would: focus, select all, type. */
  async function setEditor(monaco: Locator, text: string) {
    await monaco.locator('.view-lines').click();
    await page().keyboard.press('ControlOrMeta+KeyA');
    await page().keyboard.press('Delete');
    // One input event with the whole text: typing it key by key would let Monaco auto-close brackets.
    if (text) await page().keyboard.insertText(text);
    await page().keyboard.press('Escape'); // closes any suggestion widget
    await page().keyboard.press('ControlOrMeta+Home'); // scrolls back to the start of a long line
    await expect.poll(() => renderedText(monaco), { timeout: UI_TIMEOUT }).toBe(text);
  }

  async function setHeaders(text: string) {
    await page().locator('.graphiql-editor-tools button[data-name="headers"]').click();
    await setEditor(headersEditor(), text);
  }

  async function setOperation(text: string, operationName: string) {
    await setEditor(queryEditor(), text);
    // Typed on one line; prettified so the screenshots are readable.
    await page().getByRole('button', { name: /^Prettify query/ }).click();
    await expect.poll(() => renderedText(queryEditor()), { timeout: UI_TIMEOUT }).toContain('\n');
    await expect.poll(() => activeTabTitle().innerText(), { timeout: UI_TIMEOUT }).toBe(operationName);
  }

  /** Clicks Execute and returns the gateway's HTTP response to the operation it sent. */
  async function execute(isOperationRequest: (response: Response) => boolean): Promise<Response> {
    const [response] = await Promise.all([page().waitForResponse(isOperationRequest, { timeout: UI_TIMEOUT }), executeButton().click()]);
    return response;
  }

  /** Opens the docs explorer from the sidebar (the button's label turns to "Hide …" while it is open). */
  async function openDocsExplorer() {
    await sidebarButton('Show Documentation Explorer').click();
    await docsExplorer().waitFor({ timeout: UI_TIMEOUT });
  }

  async function closeDocsExplorer() {
    await sidebarButton('Hide Documentation Explorer').click();
    await docsExplorer().waitFor({ state: 'detached', timeout: UI_TIMEOUT });
  }

  /** The docs explorer's start page shows the schema's three root types, each a link. */
  async function expectRootTypesListed() {
    await expect
      .poll(() => docsExplorer().innerText(), { timeout: UI_TIMEOUT })
      .toMatch(/Root Types\s+query: Query\s+mutation: Mutation\s+subscription: Subscription/);
    for (const type of ['Query', 'Mutation', 'Subscription']) await docsLink(type).waitFor({ timeout: UI_TIMEOUT });
  }

  return {
    queryEditor,
    headersEditor,
    resultPane,
    executeButton,
    refetchSchemaButton,
    docsExplorer,
    docsLink,
    renderedText,
    result,
    setHeaders,
    setOperation,
    execute,
    openDocsExplorer,
    closeDocsExplorer,
    expectRootTypesListed,
  };
}

/** The gateway's answer to the schema introspection GraphiQL sends (on load, and on "Re-fetch GraphQL schema"). */
const isIntrospectionPost = (gw: TestGateway) => (response: Response) =>
  response.url() === `${gw.url}/graphql` && response.request().method() === 'POST' && response.request().postDataJSON()?.operationName === 'IntrospectionQuery';

describe('GraphiQL in a real browser, with auth on', () => {
  let fake: FakeProvider;
  let idp: OidcIssuer;
  let gw: TestGateway;
  let session: BrowserSession;
  let page: Page;
  let token: string;

  beforeAll(async () => {
    session = await launchBrowser(); // throws when Chromium is missing: fail, not skip
    page = session.page;
    fake = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'k', models: ['model-a', 'model-b'] });
    idp = await startOidcIssuer();
    gw = await startTestGateway({ ENABLE_AUTH: 'true', OIDC_ISSUER_URL: idp.issuer, GROQ_API_URL: fake.url, GROQ_API_KEY: 'k' });
    token = await idp.token({ sub: SUBJECT });
  });

  afterAll(async () => {
    await session?.browser.close();
    await gw?.close();
    await fake?.close();
    await idp?.close();
  });

  // ---- page helpers -------------------------------------------------------------------------

  const {
    queryEditor,
    headersEditor,
    executeButton,
    refetchSchemaButton,
    docsExplorer,
    docsLink,
    renderedText,
    result,
    setHeaders,
    setOperation,
    execute,
    openDocsExplorer,
    closeDocsExplorer,
    expectRootTypesListed,
  } = graphiqlPage(() => page);

  const isModelsPost = (response: Response) =>
    response.url() === `${gw.url}/graphql` && response.request().method() === 'POST' && response.request().postDataJSON()?.operationName === 'BrowserModels';

  // ---- tests (they share one page, in order) ------------------------------------------------

  it('serves GraphiQL at /graphql without a token, pre-filled with an Authorization header template', async () => {
    const res = await page.goto(`${gw.url}/graphql`);
    expect(res?.status()).toBe(200);
    await queryEditor().waitFor({ timeout: UI_TIMEOUT });
    await executeButton().waitFor({ timeout: UI_TIMEOUT });
    await expect(page.title()).resolves.toBe('GraphQL Inference Gateway');
    await page.locator('.graphiql-editor-tools button[data-name="headers"]').click();
    await expect.poll(() => renderedText(headersEditor()), { timeout: UI_TIMEOUT }).toContain('"Authorization": "Bearer <token>"');
  });

  it('loads the schema with "Re-fetch GraphQL schema" once a token is in the Headers tab: the docs explorer lists Query, Mutation and Subscription, and a query runs', async () => {
    // On load GraphiQL introspected with the "<token>" placeholder, which the gateway refused.
    await openDocsExplorer();
    await docsExplorer().getByText('Error fetching schema').waitFor({ timeout: UI_TIMEOUT });
    expect(await docsLink('Query').count()).toBe(0);

    await setHeaders(JSON.stringify({ Authorization: `Bearer ${token}` }));
    const [introspection] = await Promise.all([
      page.waitForResponse(isIntrospectionPost(gw), { timeout: UI_TIMEOUT }),
      refetchSchemaButton().click(),
    ]);
    // The re-fetch carried the headers editor's token, and the whole introspection was answered.
    expect(introspection.request().headers().authorization).toBe(`Bearer ${token}`);
    const body = await introspection.json();
    expect(body.errors).toBeUndefined();
    expect(introspection.status()).toBe(200);
    expect(body.data.__schema).toMatchObject({ queryType: { name: 'Query' }, mutationType: { name: 'Mutation' }, subscriptionType: { name: 'Subscription' } });
    await expectRootTypesListed();

    await setOperation(MODELS_QUERY, 'BrowserModels');
    const response = await execute(isModelsPost);
    expect(response.status()).toBe(200);
    await expect
      .poll(result, { timeout: UI_TIMEOUT })
      .toEqual({ data: { models: expect.arrayContaining([{ id: 'groq/model-a', provider: 'groq' }]), me: { subject: SUBJECT } } });
    await page.screenshot({ path: `${ARTIFACTS}graphiql-docs-authenticated.png` });

    // The later tests' screenshots show the editors at full width, as before.
    await closeDocsExplorer();
  });

  it('runs a query with the token from the headers editor and shows models and identity', async () => {
    await setHeaders(JSON.stringify({ Authorization: `Bearer ${token}` }));
    await setOperation(MODELS_QUERY, 'BrowserModels');

    const response = await execute(isModelsPost);
    // The page sent exactly what the headers editor holds.
    expect(response.request().headers().authorization).toBe(`Bearer ${token}`);
    expect(response.status()).toBe(200);

    await expect
      .poll(result, { timeout: UI_TIMEOUT })
      .toEqual({
        data: {
          models: expect.arrayContaining([
            { id: 'groq/model-a', provider: 'groq' },
            { id: 'groq/model-b', provider: 'groq' },
          ]),
          me: { subject: SUBJECT },
        },
      });
    await page.screenshot({ path: `${ARTIFACTS}graphiql-query.png` });
  });

  // On load the pane already shows an UNAUTHENTICATED error (GraphiQL's introspection ran with the
  // "<token>" placeholder), so each case checks the gateway's 401 and its own, distinct message.
  it.each([
    { name: 'an empty headers editor', headers: async () => '', message: 'Authorization header missing' },
    {
      name: 'a token signed by a key the issuer never published',
      headers: async () => JSON.stringify({ Authorization: `Bearer ${await idp.token({ sub: SUBJECT }, { key: await idp.newKey() })}` }),
      message: 'Invalid token: token is signed with an unknown key',
    },
  ])('shows UNAUTHENTICATED in the response pane with $name', async ({ headers, message }) => {
    await setHeaders(await headers());
    await setOperation(MODELS_QUERY, 'BrowserModels');

    const response = await execute(isModelsPost);
    expect(response.status()).toBe(401);

    await expect
      .poll(result, { timeout: UI_TIMEOUT })
      .toEqual({ errors: [expect.objectContaining({ message, extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })] });
    await page.screenshot({ path: `${ARTIFACTS}graphiql-unauthenticated.png` });
  });

  it('runs a subscription over SSE from the page and shows the final chunk', async () => {
    await setHeaders(JSON.stringify({ Authorization: `Bearer ${token}` }));
    await setOperation(STREAM_SUBSCRIPTION, 'BrowserStream');

    const response = await execute((r) => r.url().startsWith(`${gw.url}/graphql`) && r.request().headers().accept?.includes('text/event-stream') === true);
    // GraphQL over SSE, carrying the headers editor's token.
    expect(response.request().headers().authorization).toBe(`Bearer ${token}`);
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type']).toContain('text/event-stream');

    // GraphiQL shows the latest event; the stream's last chunk is the one carrying usage.
    await expect
      .poll(result, { timeout: UI_TIMEOUT })
      .toEqual({ data: { chatCompletionStream: expect.objectContaining({ usage: { totalTokens: expect.any(Number) } }) } });
    // The stream ended: the button is back to "Execute" (it reads "Stop" while a subscription runs).
    await executeButton().waitFor({ timeout: UI_TIMEOUT });

    // What the page typed reached the provider, as a streaming request.
    const upstream = fake.requests.filter((r) => r.path.endsWith('/chat/completions'));
    expect(upstream.at(-1)?.json).toMatchObject({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'hello from the browser' }] });
    await page.screenshot({ path: `${ARTIFACTS}graphiql-subscription.png` });
  });

  it('made no request beyond loopback (GraphiQL is served offline, no CDN) and threw no page errors', () => {
    expect(session.allowed.some((url) => url.startsWith(`${gw.url}/graphql`))).toBe(true);
    expect(session.blocked).toEqual([]);
    expect(session.pageErrors).toEqual([]);
  });
});

describe('GraphiQL in a real browser, with auth off', () => {
  let fake: FakeProvider;
  let gw: TestGateway;
  let session: BrowserSession;
  let page: Page;

  beforeAll(async () => {
    session = await launchBrowser(); // throws when Chromium is missing: fail, not skip
    page = session.page;
    fake = await startFakeProvider({ basePath: '/openai/v1', apiKey: 'k', models: ['model-a'] });
    gw = await startTestGateway({ GROQ_API_URL: fake.url, GROQ_API_KEY: 'k' });
  });

  afterAll(async () => {
    await session?.browser.close();
    await gw?.close();
    await fake?.close();
  });

  const { queryEditor, resultPane, docsExplorer, docsLink, renderedText, openDocsExplorer, expectRootTypesListed } = graphiqlPage(() => page);

  // ---- tests (they share one page, in order) ------------------------------------------------

  it('loads GraphiQL with no error: its own introspection is answered and the docs explorer lists Query, Mutation and Subscription', async () => {
    // GraphiQL introspects as soon as it loads; that query nests deeper (21) than operations may (15).
    const introspected = page.waitForResponse(isIntrospectionPost(gw), { timeout: UI_TIMEOUT });
    const res = await page.goto(`${gw.url}/graphql`);
    expect(res?.status()).toBe(200);
    await queryEditor().waitFor({ timeout: UI_TIMEOUT });
    const introspection = await introspected;

    // Once the docs explorer shows an outcome (the schema, or "Error fetching schema"), GraphiQL has
    // digested the introspection: a refusal would now also be in the result pane, where a person sees it.
    await openDocsExplorer();
    await docsExplorer().locator('.graphiql-doc-explorer-root-type, .graphiql-doc-explorer-error').first().waitFor({ timeout: UI_TIMEOUT });
    const shown = await renderedText(resultPane());
    expect(shown).not.toContain('Syntax Error');
    expect(shown).not.toMatch(/depth/i);
    expect(shown).not.toContain('"errors"');
    expect(await docsExplorer().getByText('Error fetching schema').count()).toBe(0);
    await expectRootTypesListed();
    await page.screenshot({ path: `${ARTIFACTS}graphiql-docs.png` });

    const body = await introspection.json();
    expect(body.errors).toBeUndefined();
    expect(introspection.status()).toBe(200);
    expect(body.data.__schema).toMatchObject({ queryType: { name: 'Query' }, mutationType: { name: 'Mutation' }, subscriptionType: { name: 'Subscription' } });
  });

  it.each([
    { type: 'Query', fields: ['models', 'me', 'providers'] },
    { type: 'Mutation', fields: ['chatCompletion'] },
    { type: 'Subscription', fields: ['chatCompletionStream'] },
  ])('the docs explorer opens $type and shows its fields', async ({ type, fields }) => {
    await docsLink(type).click({ timeout: UI_TIMEOUT });
    await docsExplorer().locator('.graphiql-doc-explorer-title').getByText(type, { exact: true }).waitFor({ timeout: UI_TIMEOUT });
    for (const field of fields) await docsLink(field).waitFor({ timeout: UI_TIMEOUT });
    if (type === 'Mutation') await page.screenshot({ path: `${ARTIFACTS}graphiql-docs-mutation.png` });

    await docsExplorer().getByRole('link', { name: 'Go back to Docs' }).click({ timeout: UI_TIMEOUT });
    await expectRootTypesListed();
  });

  it('made no request beyond loopback and logged no page or console errors', () => {
    expect(session.allowed.some((url) => url.startsWith(`${gw.url}/graphql`))).toBe(true);
    expect(session.blocked).toEqual([]);
    expect(session.pageErrors).toEqual([]);
    expect(session.consoleErrors).toEqual([]);
  });
});
