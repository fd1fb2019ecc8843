/** fast-check arbitraries for GraphQL documents, variables and batches. */
import fc from 'fast-check';
import { anyJson, arrayText, extraEntries, identifier, jsonText, mutated, objectText, validModel, wrongType, type JsonText } from './arbitraries.js';

/** Field and argument names of this schema, introspection names, and a few that do not exist. */
const SCHEMA_NAMES = [
  'models', 'providers', 'me', 'id', 'name', 'provider', 'configured', 'ownedBy', 'created', 'subject', 'roles',
  'chatCompletion', 'chatCompletionStream', 'choices', 'message', 'content', 'usage', 'totalTokens',
  '__typename', '__schema', '__type', 'types', 'fields', 'ofType', 'kind', 'queryType', 'input', 'messages', 'role',
];

const fieldName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...SCHEMA_NAMES) },
  { weight: 2, arbitrary: identifier },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 20_000 }).map((n) => `f${'x'.repeat(n)}`) },
);

const aliasName = fc.oneof(identifier, fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'data', 'errors'));

/** GraphQL literal values, including wrong ones for the schema (enum KING, huge ints, nested objects). */
const { literal } = fc.letrec((tie) => ({
  literal: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'literal' },
    fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => JSON.stringify(s)),
    fc.integer().map(String),
    fc.constantFrom('2147483648', '-2147483649', '1e400', '0.5', 'true', 'false', 'null', 'KING', 'USER', 'SYSTEM', '$input', '$x', '$'),
    fc.array(tie('literal'), { maxLength: 3 }).map((items) => `[${items.join(', ')}]`),
    fc.array(fc.tuple(fc.oneof(identifier, fc.constantFrom('model', 'messages', 'role', 'content', 'provider', '__proto__')), tie('literal')), { maxLength: 3 }).map(
      (entries) => `{${entries.map(([k, v]) => `${k}: ${v}`).join(', ')}}`,
    ),
  ),
}));

const args = fc.array(fc.tuple(fc.oneof(fc.constantFrom('provider', 'input', 'if'), identifier), literal), { minLength: 1, maxLength: 3 }).map(
  (pairs) => `(${pairs.map(([k, v]) => `${k}: ${v}`).join(', ')})`,
);

const { selectionSet } = fc.letrec((tie) => ({
  selection: fc.tuple(fc.option(aliasName, { freq: 4 }), fieldName, fc.option(args, { freq: 3 }), fc.option(tie('selectionSet'), { freq: 2, depthIdentifier: 'sel', maxDepth: 5 })).map(
    ([alias, name, a, sub]) => `${alias ? `${alias}: ` : ''}${name}${a ?? ''}${sub ? ` ${sub}` : ''}`,
  ),
  selectionSet: fc
    .array(fc.oneof({ weight: 8, arbitrary: tie('selection') as fc.Arbitrary<string> }, { weight: 1, arbitrary: fc.constantFrom('...F', '... on Query { providers { id } }', '...') }), {
      maxLength: 4,
      depthIdentifier: 'sel',
    })
    .map((items) => `{ ${items.join(' ')} }`),
}));

const operationHead = fc.oneof(
  fc.constant(''),
  fc.constantFrom('query', 'mutation', 'subscription', 'query Q', 'mutation M($input: ChatCompletionInput!)', 'query ($x: String, $x: Int)', 'query Q($p: String = 5)', 'fragment F on Query'),
  identifier.map((n) => `query ${n}`),
);

/** A structured document: mostly syntactically valid, often invalid for the schema. */
const structuredDocument = fc
  .tuple(operationHead, selectionSet, fc.option(fc.constantFrom(' fragment F on Query { me { subject } }', ' fragment F on Nope { x }', ' query Other { __typename }'), { freq: 4 }))
  .map(([head, set, tail]) => `${head} ${set}${tail ?? ''}`);

/** Random nesting of GraphQL punctuation and names. */
const punctuationSoup = fc
  .array(fc.oneof(fc.constantFrom('{', '}', '(', ')', '[', ']', ':', '$', '!', '@', '...', ',', '=', '"', '"""', '#', '\n', '|', '&', '\\u'), identifier, fc.constantFrom(...SCHEMA_NAMES)), {
    maxLength: 40,
  })
  .map((parts) => parts.join(' '));

export const graphqlDocument = fc.oneof(
  { weight: 5, arbitrary: structuredDocument },
  { weight: 2, arbitrary: punctuationSoup },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 80 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '{', '}', '{}', '{ __typename }', '{ providers { id configured } }', 'query { models { id name provider } }', '{'.repeat(300) + '}'.repeat(300)) },
);

/** A POST body `{query, variables?, operationName?, extensions?}` as JSON text; fields may be of the wrong type. */
export const graphqlRequestBody = fc
  .record(
    {
      query: fc.oneof({ weight: 8, arbitrary: graphqlDocument.map(jsonText) }, { weight: 1, arbitrary: wrongType('string') }),
      variables: fc.oneof(fc.dictionary(fc.oneof(identifier, fc.constantFrom('__proto__', 'input', 'x', 'p')), anyJson.map((t) => JSON.parse(t) as unknown), { maxKeys: 3 }).map(jsonText), anyJson),
      operationName: fc.oneof(identifier.map(jsonText), anyJson),
      extensions: anyJson,
    },
    { requiredKeys: ['query'] },
  )
  .map((fields) => objectText(Object.entries(fields)));

const ENUM_ROLES = ['SYSTEM', 'DEVELOPER', 'USER', 'ASSISTANT'];

/** One content part that is valid: exactly one field, an https: or data: image URL. */
const validPart = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 20 }).map((text) => objectText([['text', jsonText(text)]])),
  fc
    .tuple(fc.constantFrom('https://example.com/a.png', 'data:image/png;base64,iVBORw0KGgo='), fc.option(fc.constantFrom('AUTO', 'LOW', 'HIGH')))
    .map(([url, detail]) => objectText([['imageUrl', objectText([['url', jsonText(url)], ...(detail ? ([['detail', jsonText(detail)]] as [string, JsonText][]) : [])])]])),
  fc.constant<JsonText>('{"inputAudio":{"data":"UklGRg==","format":"wav"}}'),
  fc.constantFrom<JsonText>('{"file":{"fileId":"file-1"}}', '{"file":{"fileData":"JVBERi0=","filename":"a.pdf"}}'),
);

/** Parts that are wrong: two fields, none, bad URLs, bad enums, wrong types. */
const invalidPart = fc.oneof(
  fc.constantFrom<JsonText>(
    '{}',
    '{"text":"a","imageUrl":{"url":"https://x/a.png"}}',
    '{"imageUrl":{"url":"http://intranet/a.png"}}',
    '{"imageUrl":{"url":"javascript:alert(1)"}}',
    '{"imageUrl":{"url":"https://x/a.png","detail":"HUGE"}}',
    '{"inputAudio":{"data":"x"}}',
    '{"file":{}}',
    '{"file":{"filename":"a.pdf"}}',
    '{"text":null}',
  ),
  anyJson,
);

const validGqlMessage = fc.oneof(
  fc
    .record(
      {
        role: fc.constantFrom(...ENUM_ROLES).map(jsonText),
        content: fc.oneof({ weight: 5, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }).map(jsonText) }, { weight: 1, arbitrary: fc.constant<JsonText>('null') }),
        name: fc.string({ maxLength: 8 }).map(jsonText),
        toolCalls: fc.constant<JsonText>('[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]'),
      },
      { requiredKeys: ['role', 'content'] },
    )
    .map((fields) => objectText(Object.entries(fields))),
  fc.string({ maxLength: 20 }).map((content) => objectText([['role', '"TOOL"'], ['toolCallId', '"c1"'], ['content', jsonText(content)]])),
  // Multimodal: parts instead of content.
  fc
    .tuple(fc.constantFrom(...ENUM_ROLES).map(jsonText), fc.array(validPart, { minLength: 1, maxLength: 3 }).map(arrayText))
    .map(([role, parts]) => objectText([['role', role], ['parts', parts]])),
);

const invalidGqlMessage = fc
  .record(
    {
      role: fc.oneof(fc.constantFrom('KING', 'user', 'User', '', 'USER ', 'TOOL').map(jsonText), wrongType('string')),
      content: wrongType('string'),
      name: wrongType('string'),
      toolCallId: wrongType('string'),
      toolCalls: fc.oneof(fc.constant<JsonText>('[{"id":1,"type":"function","function":{"name":"f"}}]'), anyJson),
      parts: fc.oneof(fc.array(invalidPart, { minLength: 1, maxLength: 3 }).map(arrayText), fc.constant<JsonText>('[]'), wrongType('array')),
      extra: extraEntries,
    },
    { requiredKeys: [] },
  )
  .map(({ extra = [], ...fields }) => objectText([...Object.entries(fields), ...extra]));

const repeated = (item: JsonText, n: number): JsonText => arrayText(Array.from({ length: n }, () => item));

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map(jsonText);

export interface ChatVariablesOptions {
  /** Deepest JSON nesting to put in a tool's `parameters` (the JSON scalar goes upstream as-is). */
  maxParametersDepth: number;
}

/** `parameters` values: ordinary JSON, `__proto__` keys, and nesting up to `maxDepth`. */
const parametersValue = (maxDepth: number) =>
  fc.oneof(
    { weight: 4, arbitrary: anyJson },
    { weight: 1, arbitrary: fc.constant<JsonText>('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}') },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: maxDepth }).map((d) => `${'['.repeat(d)}${']'.repeat(d)}`) },
  );

const validGqlTools = (maxDepth: number) =>
  fc
    .array(
      fc.record({ name: identifier.map(jsonText), parameters: parametersValue(maxDepth), description: fc.string({ maxLength: 10 }).map(jsonText) }).map(({ name, parameters, description }) =>
        objectText([['type', '"function"'], ['function', objectText([['name', name], ['description', description], ['parameters', parameters]])]]),
      ),
      { maxLength: 3 },
    )
    .map(arrayText);

const validChatInput = (maxDepth: number) =>
  fc
    .record(
      {
        model: validModel.map(jsonText),
        provider: fc.constantFrom('groq', 'GROQ').map(jsonText),
        messages: fc.array(validGqlMessage, { minLength: 1, maxLength: 3 }).map(arrayText),
        temperature: fc.double({ min: 0, max: 2, noNaN: true }).map(jsonText),
        topP: fc.double({ min: 0, max: 1, noNaN: true }).map(jsonText),
        maxTokens: fc.integer({ min: 1, max: 4096 }).map(jsonText),
        seed: int32,
        stop: fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }).map(jsonText),
        tools: validGqlTools(maxDepth),
        toolChoice: fc.constantFrom('auto', 'none', 'required', 'f').map(jsonText),
        maxCompletionTokens: fc.integer({ min: 1, max: 4096 }).map(jsonText),
        n: fc.integer({ min: 1, max: 4 }).map(jsonText),
        frequencyPenalty: fc.double({ min: -2, max: 2, noNaN: true }).map(jsonText),
        presencePenalty: fc.double({ min: -2, max: 2, noNaN: true }).map(jsonText),
        logprobs: fc.boolean().map(jsonText),
        topLogprobs: fc.integer({ min: 0, max: 20 }).map(jsonText),
        user: fc.string({ maxLength: 10 }).map(jsonText),
        parallelToolCalls: fc.boolean().map(jsonText),
        reasoningEffort: fc.constantFrom('NONE', 'MINIMAL', 'LOW', 'MEDIUM', 'HIGH', 'XHIGH').map(jsonText),
        responseFormat: fc.constantFrom<JsonText>('{"type":"TEXT"}', '{"type":"JSON_OBJECT"}', '{"type":"JSON_SCHEMA","jsonSchema":{"name":"a","schema":{"type":"object"},"strict":true}}'),
        metadata: fc.dictionary(identifier, fc.string({ maxLength: 8 }), { maxKeys: 3 }).map(jsonText),
        extraBody: fc.dictionary(identifier, anyJson.map((t) => JSON.parse(t) as unknown), { maxKeys: 3 }).map(jsonText),
      },
      { requiredKeys: ['model', 'messages'] },
    )
    .map((fields) => Object.entries(fields) as [string, JsonText][]);

/** Variables for `chatCompletion(input: $input)`: a valid input with up to three fields made wrong or deleted. */
export const chatVariables = ({ maxParametersDepth }: ChatVariablesOptions) =>
  mutated(
    validChatInput(maxParametersDepth),
    {
      model: fc.oneof(fc.constantFrom('', 'nope/x', 'openai/gpt-4o', 'bare').map(jsonText), wrongType('string')),
      provider: fc.oneof(fc.constantFrom('nope', 'openai', '', '__proto__').map(jsonText), wrongType('string')),
      messages: fc.oneof(
        fc.constantFrom<JsonText>('[]', 'null', '{"role":"USER"}', '"USER"'),
        fc.array(fc.oneof(validGqlMessage, invalidGqlMessage), { minLength: 1, maxLength: 3 }).map(arrayText),
        // Around the 1000-message limit.
        fc.constantFrom(999, 1000, 1001, 2500).map((n) => repeated('{"role":"USER","content":"x"}', n)),
        wrongType('array'),
      ),
      temperature: wrongType('number'),
      topP: wrongType('number'),
      maxTokens: fc.oneof(wrongType('integer'), fc.constantFrom<JsonText>('2147483648', '1e10')),
      seed: wrongType('integer'),
      stop: fc.oneof(fc.string({ maxLength: 5 }).map(jsonText), wrongType('array')),
      tools: fc.oneof(fc.constantFrom(129, 200).map((n) => repeated('{"type":"function","function":{"name":"f"}}', n)), anyJson),
      toolChoice: wrongType('string'),
      reasoningEffort: fc.oneof(fc.constantFrom('EXTREME', 'high', '').map(jsonText), wrongType('string')),
      responseFormat: fc.oneof(
        fc.constantFrom<JsonText>('{"type":"JSON_SCHEMA"}', '{"type":"TEXT","jsonSchema":{"name":"a","schema":{}}}', '{"type":"YAML"}', '{"type":"JSON_SCHEMA","jsonSchema":{"name":"a","schema":[]}}'),
        anyJson,
      ),
      metadata: fc.oneof(fc.constantFrom<JsonText>('[]', '"tag"', '1'), anyJson),
      extraBody: fc.oneof(fc.constantFrom<JsonText>('[]', '"x"', 'true'), anyJson),
      topLogprobs: wrongType('integer'),
    },
    // Unknown input fields are a GraphQL error by themselves: only sometimes.
    fc.option(extraEntries, { freq: 5 }).map((e) => e ?? []),
  ).chain(({ text }) =>
    fc.oneof(
      { weight: 12, arbitrary: fc.constant(objectText([['input', text]])) },
      // The input under __proto__, next to other variables, or no variables object at all.
      { weight: 1, arbitrary: fc.constant(objectText([['__proto__', text], ['input', 'null']])) },
      { weight: 1, arbitrary: extraEntries.map((extra) => objectText([...extra, ['input', text]])) },
      { weight: 1, arbitrary: anyJson },
    ),
  );

/** The streamed form, for the direct SSE path's differential property. */
export const CHAT_SUBSCRIPTION = `subscription Chat($input: ChatCompletionInput!) {
  chatCompletionStream(input: $input) { id model provider choices { index finishReason delta { role content toolCalls { index id function { name arguments } } } } usage { promptTokens completionTokens totalTokens } }
}`;

export const CHAT_MUTATION = `mutation Chat($input: ChatCompletionInput!) {
  chatCompletion(input: $input) {
    id model provider created
    choices { index finishReason message { role content reasoning toolCalls { id type function { name arguments } } } }
    usage { promptTokens completionTokens totalTokens }
  }
}`;

/** One entry of a batch: a valid operation, a random one, or not an operation at all. */
const batchEntry = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('{"query":"{ providers { id } }"}', '{"query":"{ __typename }"}', '{"query":"query { models { id } }"}') },
  { weight: 3, arbitrary: graphqlRequestBody },
  { weight: 1, arbitrary: anyJson },
);

export const graphqlBatch = fc.array(batchEntry, { maxLength: 10 }).map((entries) => ({ text: arrayText(entries), size: entries.length }));
