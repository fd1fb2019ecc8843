/**
 * A thin front for the shared fake provider that validates a chat request the way OpenAI does
 * before the fake sees it. The gateway passes fields it does not know through untouched (by design),
 * so fuzzed `tools` reach the upstream; the real API answers a malformed tool list with a 400, while
 * the fake (written for well-formed tests) would throw on it. Everything else is forwarded as-is.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface StrictUpstream {
  /** Same base path as the fake behind it. */
  readonly url: string;
  /** Requests answered here with a 400, without reaching the fake. */
  rejected: number;
  close(): Promise<void>;
}

export async function startStrictUpstream(fakeUrl: string): Promise<StrictUpstream> {
  const target = new URL(fakeUrl);
  const sockets = new Set<Socket>();
  const state = { rejected: 0 };
  const server: Server = createServer(async (req, res) => {
    const body = await readAll(req);
    if (req.method === 'POST' && (req.url ?? '').endsWith('/chat/completions')) {
      const problem = invalidChatRequest(body);
      if (problem) {
        state.rejected++;
        const text = JSON.stringify({ error: { message: problem, type: 'invalid_request_error', param: null, code: null } });
        res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        return void res.end(text);
      }
    }
    const forward = request(
      { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (upstream) => {
        res.writeHead(upstream.statusCode ?? 502, upstream.headers);
        upstream.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    res.on('close', () => forward.destroy());
    forward.end(body);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname.replace(/\/+$/, '')}`,
    get rejected() {
      return state.rejected;
    },
    set rejected(n: number) {
      state.rejected = n;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What OpenAI would refuse in the parts the fake reads; undefined when the fake can take it. */
function invalidChatRequest(body: Buffer): string | undefined {
  let json: any;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return 'We could not parse the JSON body of your request.';
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return 'The request body must be an object.';
  const { tools } = json;
  if (tools !== undefined && tools !== null) {
    if (!Array.isArray(tools)) return "Invalid type for 'tools': expected an array.";
    for (const [i, tool] of tools.entries()) {
      if (tool === null || typeof tool !== 'object' || Array.isArray(tool)) return `Invalid type for 'tools[${i}]': expected an object.`;
      const fn = tool.function;
      if (fn === null || typeof fn !== 'object' || Array.isArray(fn) || typeof fn.name !== 'string') {
        return `Missing required parameter: 'tools[${i}].function.name'.`;
      }
    }
  }
  if (!Array.isArray(json.messages)) return "Missing required parameter: 'messages'.";
  return undefined;
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (p: Buffer) => parts.push(p));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}
