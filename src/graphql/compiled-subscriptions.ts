/**
 * Subscriptions on the gateway's direct transports (SSE and WebSocket), run leaner than envelop's
 * subscribe. A subscription runs its selection set once per event — for a streamed chat, once per
 * chunk — so what each event costs is most of what a GraphQL stream costs over REST.
 *
 * - The source stream is opened as graphql-js's `createSourceEventStream` opens it (the root field's
 *   `subscribe` resolver called with its arguments, its errors turned into results), with the
 *   variables coerced once by graphql-jit's compiled parser rather than graphql-js's interpreter.
 *   Variables it refuses, and @oneOf inputs that set other than one field (it does not check those),
 *   go to `createSourceEventStream` itself, which refuses them in its own words.
 * - Each event runs graphql-jit's compiled query of an *event document*: the operation with its root
 *   fields' arguments taken out, compiled against a copy of the schema whose subscription fields take
 *   none. The arguments were spent on `subscribe`; an event only resolves the selection. So only the
 *   variables the selection itself uses (`@include(if: $x)`) are coerced per event — usually none,
 *   where compiling the whole operation would coerce the chat input again for every chunk.
 *   (Not graphql-jit's own `subscribe` either: it coerces already-coerced variables again per event
 *   and refuses an enum's internal value.)
 * - The work of envelop's subscribe hooks is done here once, not by wrappers around every event:
 *   errors are masked with Yoga's mask (`maskError`), the first event carries the calls extension
 *   (call-extensions.ts), and the SERVER span is named (operation-span.ts). Yoga's own hooks do
 *   nothing for these transports (no Fetch request). A test keeps the list of plugins with
 *   `onSubscribe` hooks known, so one added later is not skipped here unnoticed.
 *
 * Documents the event compiler cannot take (a root fragment, say) go through envelop's subscribe as
 * before. Yoga's own transports always do. The source iterator's errors (a stream cut mid-way)
 * propagate from `next()`, masked, as before, and `return()` (the client went away) reaches the
 * source at once.
 */
import {
  createSourceEventStream,
  getArgumentValues,
  getNamedType,
  getOperationAST,
  GraphQLObjectType,
  GraphQLSchema,
  isInputObjectType,
  isListType,
  isNonNullType,
  Kind,
  locatedError,
  typeFromAST,
  visit,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLResolveInfo,
  type OperationDefinitionNode,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { createRequire } from 'node:module';
import type * as JitVariables from 'graphql-jit/dist/variables';
import { isAsyncIterable } from 'graphql-yoga';
import type { GraphQLContext } from '../schema/builder.js';
import { withCalls } from './call-extensions.js';
import { nameSpan } from './operation-span.js';

export type SubscribeResult = ExecutionResult | AsyncIterable<ExecutionResult>;
// envelop's subscribe, typed loosely (its arguments carry Yoga's context type).
type Subscribe = (args: never) => unknown;
/** Yoga's error mask (yoga.ts `errorMask`). */
export type Mask = (error: unknown) => GraphQLError;

interface Plan {
  readonly events: CompiledQuery;
  /** The variables the event document still uses. */
  readonly variables: readonly string[];
  /** How the source stream is opened: the root field, and the operation's variables compiled. */
  readonly source?: SourcePlan;
}

interface SourcePlan {
  readonly operation: OperationDefinitionNode;
  readonly parentType: GraphQLObjectType;
  readonly field: GraphQLField<unknown, unknown>;
  readonly node: FieldNode;
  readonly fragments: Record<string, FragmentDefinitionNode>;
  readonly coerce: ReturnType<typeof compileVariableParsing>;
  /** The variables' types, where one holds a @oneOf input (graphql-jit does not check those). */
  readonly oneOf: readonly [string, GraphQLInputType][];
}

// graphql-jit's compiled variable coercion (what its compiled queries use). Its ES module build of
// this file imports a sibling without an extension, which Node refuses: the CommonJS one is loaded.
const { compileVariableParsing, failToParseVariables } = createRequire(import.meta.url)('graphql-jit/dist/variables.js') as typeof JitVariables;

// Per parsed document (the parse cache hands out the same object) and operation name; null: not ours.
const plans = new WeakMap<DocumentNode, Map<string, Plan | null>>();
const eventSchemas = new WeakMap<GraphQLSchema, GraphQLSchema>();

/**
 * Subscribes on a direct transport. `fallback` is envelop's subscribe, for documents the event
 * compiler does not take.
 */
export async function subscribeDirect(args: ExecutionArgs, fallback: Subscribe, mask: Mask): Promise<SubscribeResult> {
  const plan = planFor(args.schema, args.document, args.operationName);
  if (!plan) return (await fallback(args as never)) as SubscribeResult;
  const context = args.contextValue as GraphQLContext;
  nameSpan(context, args.document, args.operationName);
  let source: AsyncIterable<unknown> | ExecutionResult;
  try {
    source = (plan.source && (await openSource(plan.source, args))) || (await createSourceEventStream(args));
  } catch (error) {
    throw mask(error);
  }
  if (!isAsyncIterable(source)) return masked(withCalls(context, source) ?? source, mask);
  const variables: Record<string, unknown> = {};
  for (const name of plan.variables) variables[name] = args.variableValues?.[name];
  const iterator = source[Symbol.asyncIterator]();
  let first = true;
  const events: AsyncIterableIterator<ExecutionResult> = {
    async next(): Promise<IteratorResult<ExecutionResult>> {
      let step: IteratorResult<unknown>;
      try {
        step = await iterator.next();
      } catch (error) {
        throw mask(error); // a stream cut mid-way: masked as envelop's subscribe-error hook would
      }
      if (step.done) return { done: true, value: undefined };
      let result = (await plan.events.query(step.value, context, variables)) as ExecutionResult;
      if (first) {
        // The first event says who serves the stream; the rest stay as small as they are.
        first = false;
        result = withCalls(context, result) ?? result;
      }
      return { done: false, value: masked(result, mask) };
    },
    async return(): Promise<IteratorResult<ExecutionResult>> {
      await iterator.return?.(undefined);
      return { done: true, value: undefined };
    },
    async throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
      if (iterator.throw) await iterator.throw(error);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return events;
}

/**
 * graphql-js's `createSourceEventStream` with the variables coerced by compiled code (graphql-jit's,
 * as the fast path's queries and mutations are) instead of its interpreter, which was the largest
 * part of a subscription's set-up. Undefined when the variables are refused (or a @oneOf input sets
 * other than one field): then graphql-js coerces them and words the refusal, as before.
 */
async function openSource(plan: SourcePlan, args: ExecutionArgs): Promise<AsyncIterable<unknown> | ExecutionResult | undefined> {
  const parsed = plan.coerce(args.variableValues ?? {});
  if (failToParseVariables(parsed)) return undefined;
  const variableValues = parsed.coerced;
  for (const [name, type] of plan.oneOf) if (!oneOfHolds(type, variableValues[name])) return undefined;
  const { field, node, parentType } = plan;
  const key = node.alias?.value ?? node.name.value;
  const info: GraphQLResolveInfo = {
    fieldName: node.name.value,
    fieldNodes: [node],
    returnType: field.type,
    parentType,
    path: { prev: undefined, key, typename: parentType.name },
    schema: args.schema,
    fragments: plan.fragments,
    rootValue: args.rootValue,
    operation: plan.operation,
    variableValues,
  };
  try {
    const stream = await field.subscribe!(args.rootValue, getArgumentValues(field, node, variableValues), args.contextValue, info);
    if (stream instanceof Error) throw stream;
    if (!isAsyncIterable(stream)) throw new Error(`Subscription field must return Async Iterable. Received: ${String(stream)}.`);
    return stream;
  } catch (error) {
    return { errors: [locatedError(error, [node], [key])] };
  }
}

/** Every @oneOf input object in `value` sets exactly one field (graphql-js checks it; graphql-jit does not). */
function oneOfHolds(type: GraphQLInputType, value: unknown): boolean {
  if (value == null) return true;
  if (isNonNullType(type)) return oneOfHolds(type.ofType, value);
  if (isListType(type)) return Array.isArray(value) ? value.every((item) => oneOfHolds(type.ofType, item)) : oneOfHolds(type.ofType, value);
  if (!isInputObjectType(type) || typeof value !== 'object') return true;
  const entries = Object.entries(value as Record<string, unknown>);
  if (type.isOneOf && (entries.length !== 1 || entries[0]![1] === null)) return false;
  const fields = type.getFields();
  return entries.every(([name, item]) => !fields[name] || oneOfHolds(fields[name].type, item));
}

/** Whether `type` is or holds a @oneOf input object. */
function holdsOneOf(type: GraphQLInputType, seen = new Set<GraphQLInputType>()): boolean {
  const named = getNamedType(type);
  if (!isInputObjectType(named) || seen.has(named)) return false;
  if (named.isOneOf) return true;
  seen.add(named);
  return Object.values(named.getFields()).some((f) => holdsOneOf(f.type, seen));
}

function masked(result: ExecutionResult, mask: Mask): ExecutionResult {
  return result.errors ? { ...result, errors: result.errors.map(mask) } : result;
}

/** How the direct transports run this operation (for tests): events compiled, source opened with compiled variables. */
export function runsCompiled(schema: GraphQLSchema, document: DocumentNode, operationName?: string): { events: boolean; source: boolean } {
  const plan = planFor(schema, document, operationName);
  return { events: plan !== null, source: plan?.source !== undefined };
}

function planFor(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): Plan | null {
  const key = operationName ?? '';
  let byName = plans.get(document);
  if (!byName) plans.set(document, (byName = new Map()));
  let plan = byName.get(key);
  if (plan === undefined) byName.set(key, (plan = compilePlan(schema, document, operationName)));
  return plan;
}

function compilePlan(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): Plan | null {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation !== 'subscription') return null;
  if (!operation.selectionSet.selections.every((s) => s.kind === Kind.FIELD)) return null;
  const selection = {
    ...operation.selectionSet,
    selections: operation.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? { ...s, arguments: [] } : s)),
  };
  const fragments = document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
  const used = new Set<string>();
  const collect = { Variable: (node: { name: { value: string } }) => void used.add(node.name.value) };
  visit({ ...operation, variableDefinitions: [], selectionSet: selection }, collect);
  for (const fragment of fragments) visit(fragment, collect);
  const eventOperation: OperationDefinitionNode = {
    ...operation,
    selectionSet: selection,
    variableDefinitions: (operation.variableDefinitions ?? []).filter((v) => used.has(v.variable.name.value)),
  };
  const compiled = compileQuery(eventSchema(schema), { kind: Kind.DOCUMENT, definitions: [eventOperation, ...fragments] }, operationName ?? undefined);
  if (!isCompiledQuery(compiled)) return null;
  return { events: compiled, variables: eventOperation.variableDefinitions!.map((v) => v.variable.name.value), source: sourcePlan(schema, operation, fragments) };
}

/** The root field, when it is the one plain field of the operation (else graphql-js opens the source). */
function sourcePlan(schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: FragmentDefinitionNode[]): SourcePlan | undefined {
  const parentType = schema.getSubscriptionType();
  const [node, ...more] = operation.selectionSet.selections;
  if (!parentType || more.length > 0 || node?.kind !== Kind.FIELD || (node.directives?.length ?? 0) > 0) return undefined;
  const field = parentType.getFields()[node.name.value];
  if (!field?.subscribe) return undefined;
  const definitions = operation.variableDefinitions ?? [];
  const oneOf: [string, GraphQLInputType][] = [];
  for (const definition of definitions) {
    const type = typeFromAST(schema, definition.type as never) as GraphQLInputType | undefined;
    if (!type) return undefined;
    if (holdsOneOf(type)) oneOf.push([definition.variable.name.value, type]);
  }
  return {
    operation,
    parentType,
    field,
    node,
    fragments: Object.fromEntries(fragments.map((f) => [f.name.value, f])),
    coerce: compileVariableParsing(schema, definitions),
    oneOf,
  };
}

/** The schema as events see it: the same types and resolvers, subscription fields without arguments. */
function eventSchema(schema: GraphQLSchema): GraphQLSchema {
  let events = eventSchemas.get(schema);
  if (events) return events;
  const subscription = schema.getSubscriptionType();
  if (!subscription) return schema;
  const config = subscription.toConfig();
  const fields = Object.fromEntries(Object.entries(config.fields).map(([name, field]) => [name, { ...field, args: {} }]));
  const eventSubscription = new GraphQLObjectType({ ...config, fields });
  const schemaConfig = schema.toConfig();
  events = new GraphQLSchema({ ...schemaConfig, subscription: eventSubscription, types: schemaConfig.types.filter((t) => t.name !== subscription.name) });
  eventSchemas.set(schema, events);
  return events;
}
