/** Writes the printed, sorted schema to schema.graphql (CI checks it is up to date). */
import { writeFileSync } from 'node:fs';
import { printSortedSchema } from '../src/schema/index.js';

writeFileSync(new URL('../schema.graphql', import.meta.url), printSortedSchema());
