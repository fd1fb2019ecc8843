/** Typed operations for the tests, generated from schema.graphql and test/graphql/*.graphql. */
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: 'test/graphql/**/*.graphql',
  generates: {
    'test/generated/graphql.ts': {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: { useTypeImports: true, enumsAsTypes: true, scalars: { JSON: 'unknown' }, avoidOptionals: false },
    },
  },
  hooks: {},
};

export default config;
