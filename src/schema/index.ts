/** The schema: every domain file registers its types on the builder; this assembles them. */
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './scalars.js';
import './models.js';
import './identity.js';
import './limits.js';
import './chat-input.js';
import './chat.js';
import './chat-stream.js';
import './embeddings.js';
import './images.js';
import './usage.js';

export const schema: GraphQLSchema = builder.toSchema();

/** The printed, sorted schema checked in as `schema.graphql`. */
export function printSortedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
