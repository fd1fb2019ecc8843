/**
 * fast-check arbitraries for the gateway's inputs. Request bodies are built as JSON *text*, so that
 * keys like `__proto__` stay ordinary own keys (an object literal would set the prototype instead)
 * and duplicate keys can be sent on purpose.
 */
import fc from 'fast-check';

/** A JSON text, built from parts without going through an object. */
export type JsonText = string & { readonly __json?: never };

export const jsonText = (value: unknown): JsonText => (value === undefined ? 'null' : JSON.stringify(value));

/** `{"k": v, …}` from entries (order kept, duplicates kept, `__proto__` an ordinary key). */
export function objectText(entries: readonly (readonly [string, JsonText | undefined])[]): JsonText {
  return `{${entries.filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
}

export function arrayText(items: readonly JsonText[]): JsonText {
  return `[${items.join(',')}]`;
}

/** Names that mean something to JavaScript objects. */
export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'then'] as const;

const smallJson = fc.jsonValue({ maxDepth: 3 }).map(jsonText);

/** Any JSON value as text (fast-check's jsonValue covers unicode, nesting, big and tiny numbers). */
export const anyJson = smallJson;

/** A key: special JS names, short ASCII names, or arbitrary unicode. */
export const anyKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PROTO_KEYS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
);

/** Extra entries to mix into an object. */
export const extraEntries = fc.array(fc.tuple(anyKey, anyJson), { maxLength: 4 });

/** JSON text of a value of another kind than `kind` (and odd numbers: fractions, huge, -0). */
export function wrongType(kind: 'string' | 'number' | 'integer' | 'boolean' | 'array'): fc.Arbitrary<JsonText> {
  const byKind: Record<string, fc.Arbitrary<JsonText>> = {
    string: fc.string({ maxLength: 10 }).map(jsonText),
    number: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }).map(jsonText), fc.constantFrom<JsonText>('0.5', '1e308', '1e999', '-0', '9007199254740993')),
    boolean: fc.boolean().map(jsonText),
    array: fc.array(smallJson, { maxLength: 3 }).map(arrayText),
    object: fc.constantFrom<JsonText>('{}', '{"a":1}', '{"__proto__":{"x":1}}'),
    null: fc.constant<JsonText>('null'),
  };
  const same = kind === 'integer' ? 'none' : kind; // for an integer field, fractions and huge numbers are the wrong kind
  return fc.oneof(...Object.entries(byKind).filter(([k]) => k !== same).map(([, a]) => a));
}

/** Model names the shared fake answers with a failure on purpose (it would be a genuine upstream status). */
const FAKE_MISBEHAVIOUR = /^(fail-\d{3}|hang|reset|malformed|cut-stream|slow-stream|error-stream|malformed-stream)$/;

/** Whether a model string would make the fake misbehave on purpose once the gateway strips `groq/`. */
export function isFakeMisbehaviourModel(model: unknown): boolean {
  if (typeof model !== 'string') return false;
  const stripped = model.toLowerCase().startsWith('groq/') ? model.slice(5) : model;
  return FAKE_MISBEHAVIOUR.test(stripped) || FAKE_MISBEHAVIOUR.test(model);
}

export const validModel = fc.oneof(
  fc.constantFrom('groq/llama-3.3-70b-versatile', 'groq/m', 'GROQ/Llama', 'groq/openai/gpt-oss-20b'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map((s) => `groq/${s}`),
);

type Entries = [string, JsonText][];

/**
 * A valid base object plus 0..3 mutations, each replacing one field with a wrong value or deleting it,
 * then extra entries mixed in at random places. Most cases stay close to valid, so they reach deep
 * (routing, the upstream, the response path) instead of all stopping at the first check.
 */
export function mutated(base: fc.Arbitrary<Entries>, wrong: Record<string, fc.Arbitrary<JsonText>>, extras: fc.Arbitrary<Entries>) {
  const fields = Object.keys(wrong);
  const mutation = fc.tuple(fc.constantFrom(...fields), fc.nat()).chain(([field]) =>
    fc.option(wrong[field]!, { freq: 6 }).map((value) => [field, value] as const),
  );
  return fc
    .tuple(
      base,
      // A third of the cases stay valid: they check that extras and odd-but-legal values go through intact.
      fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 2, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) }),
      extras,
      fc.array(fc.nat(), { maxLength: 4 }),
    )
    .map(([entries, mutations, extra, positions]) => {
      let out: Entries = [...entries];
      for (const [field, value] of mutations) {
        out = out.filter(([k]) => k !== field);
        if (value !== null) out.push([field, value]);
      }
      extra.forEach((entry, i) => out.splice((positions[i] ?? out.length) % (out.length + 1), 0, entry));
      return { text: objectText(out), mutations: mutations.map(([field, value]) => `${field}=${value ?? '<deleted>'}`) };
    });
}

const ROLES = ['user', 'system', 'assistant', 'tool', 'developer'];

const contentPart = fc.oneof(
  fc.record({ type: fc.constant('text'), text: fc.string({ maxLength: 20 }) }).map(jsonText),
  fc.record({ type: fc.constant('image_url'), image_url: fc.record({ url: fc.webUrl() }) }).map(jsonText),
  anyJson,
);

const validMessage = fc
  .record(
    {
      role: fc.constantFrom(...ROLES).map(jsonText),
      content: fc.oneof(
        { weight: 6, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }).map(jsonText) },
        { weight: 1, arbitrary: fc.constant<JsonText>('null') },
        { weight: 2, arbitrary: fc.array(contentPart, { maxLength: 3 }).map(arrayText) },
      ),
      name: fc.string({ maxLength: 8 }).map(jsonText),
      tool_calls: fc.constant<JsonText>('[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]'),
      extra: extraEntries,
    },
    { requiredKeys: ['role', 'content'] },
  )
  .map(({ extra = [], ...fields }) => objectText([...Object.entries(fields), ...extra]));

/** A message with a wrong role, content or field. */
const invalidMessage = fc
  .record(
    {
      role: fc.oneof(fc.constantFrom('', 'KING').map(jsonText), wrongType('string')),
      content: fc.oneof(wrongType('string'), fc.constantFrom<JsonText>('{"text":"x"}', 'true', '0')),
      name: anyJson,
      tool_calls: anyJson,
    },
    { requiredKeys: [] },
  )
  .map((fields) => objectText(Object.entries(fields)));

const validTools: JsonText = '[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]';

const validChatRequest: fc.Arbitrary<Entries> = fc
  .record(
    {
      model: validModel.map(jsonText),
      messages: fc.array(validMessage, { minLength: 1, maxLength: 3 }).map(arrayText),
      stream: fc.boolean().map(jsonText),
      temperature: fc.oneof(fc.double({ min: 0, max: 2, noNaN: true }).map(jsonText), fc.constant<JsonText>('null')),
      max_tokens: fc.integer({ min: 1, max: 4096 }).map(jsonText),
      top_p: fc.double({ min: 0, max: 1, noNaN: true }).map(jsonText),
      n: fc.integer({ min: 1, max: 3 }).map(jsonText),
      seed: fc.integer().map(jsonText),
      tools: fc.constant(validTools),
      tool_choice: fc.constantFrom('auto', 'none', 'required').map(jsonText),
      stream_options: fc.constant<JsonText>('{"include_usage":true}'),
    },
    { requiredKeys: ['model', 'messages'] },
  )
  .map((fields) => Object.entries(fields) as Entries);

/** A chat request: valid, then up to three fields made wrong (type, value) or deleted, plus extra keys such as __proto__. */
export const mutatedChatRequest = mutated(
  validChatRequest,
  {
    model: fc.oneof(fc.constantFrom('', '   ', 'groq/', 'openai/gpt-4o', 'nope/x', 'llama', '/x', 'GROQ/').map(jsonText), wrongType('string')),
    messages: fc.oneof(
      fc.constant<JsonText>('[]'),
      fc.array(fc.oneof(validMessage, invalidMessage), { minLength: 1, maxLength: 3 }).map(arrayText),
      fc.array(anyJson, { minLength: 1, maxLength: 3 }).map(arrayText),
      wrongType('array'),
    ),
    stream: wrongType('boolean'),
    temperature: wrongType('number'),
    max_tokens: wrongType('integer'),
    top_p: wrongType('number'),
    n: wrongType('integer'),
    seed: wrongType('integer'),
    tools: fc.oneof(anyJson, wrongType('array'), fc.constant<JsonText>('[{"type":"function"}]'), fc.constant<JsonText>('[null]')),
    tool_choice: anyJson,
    stream_options: anyJson,
  },
  extraEntries,
).filter(({ text }) => !isFakeMisbehaviourModel((JSON.parse(text) as Record<string, unknown>).model));

/** `?provider=` values to pair with a bare model name. */
export const chatQuery = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.constantFrom('?provider=groq', '?provider=GROQ', '?provider=openai', '?provider=nope', '?provider=', '?provider=groq&provider=x') },
);

/** Printable ASCII without space: what a client may put on a request line. */
export const asciiPathChar = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));

/** Percent-escapes, valid and not. */
export const percentPiece = fc.oneof(
  fc.constantFrom('%00', '%ZZ', '%', '%%', '%E0%A4%A', '%C3', '%FF', '%2e%2e', '%2E', '%2F', '%5C', '%0d%0a', '%u0041', '%F0%9F%98%80'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }).map(encodeURIComponent),
  fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, '0')}`),
);

/** A path segment on the wire: ASCII, escapes, dots and slashes. */
export const rawSegment = fc
  .array(fc.oneof({ weight: 4, arbitrary: asciiPathChar }, { weight: 2, arbitrary: percentPiece }, { weight: 1, arbitrary: fc.constantFrom('.', '..', '/', '//', '?', '#', '&', '=') }), {
    maxLength: 12,
  })
  .map((parts) => parts.join(''));

/** A value for `?provider=` as it goes on the wire. */
export const providerParam = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 20 }).map(encodeURIComponent),
  rawSegment,
  fc.constantFrom('', '%00', 'groq%00', 'GROQ', 'groq', 'Groq', 'openai', 'ollama', '__proto__', 'constructor', 'hasOwnProperty', 'groq/', '+groq', 'gr%6Fq'),
  fc.integer({ min: 1000, max: 6000 }).map((n) => 'g'.repeat(n)),
);

export const identifier = fc.stringMatching(/^[_A-Za-z][_0-9A-Za-z]{0,15}$/);

/** base64url text of arbitrary bytes. */
export const base64urlSegment = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64url'));

export const b64json = (text: string) => Buffer.from(text).toString('base64url');

/** A header value Node's client can send: latin-1 without control characters. */
export const headerValue = (maxLength = 64) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength });
