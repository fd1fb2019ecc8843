/**
 * A depth limit for introspection, counted apart from ordinary operations. The introspection query
 * that graphql-js's `getIntrospectionQuery()` (GraphiQL, Apollo, codegen from a URL) sends nests
 * `ofType` nine levels deep inside types → fields → args: 21 levels, over any depth limit sized for
 * a gateway's own operations. What makes introspection expensive is lists nested in lists
 * (`fields { type { fields … } }` multiplies by the schema's width at each level), which graphql-js's
 * own MaxIntrospectionDepthRule refuses; this rule bounds the plain depth (long `ofType` chains).
 */
import { GraphQLError, Kind, type ASTNode, type ASTVisitor, type FragmentDefinitionNode, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const ROOTS = new Set(['__schema', '__type']);

export function introspectionDepthRule(limit: number) {
  return (context: ValidationContext): ASTVisitor => {
    // Each fragment measured once per document; `null` while being measured (a cycle, which
    // validation reports by itself: counted as nothing here).
    const fragments = new Map<string, number | null>();

    const fragmentDepth = (fragment: FragmentDefinitionNode): number => {
      const name = fragment.name.value;
      if (fragments.has(name)) return fragments.get(name) ?? 0;
      fragments.set(name, null);
      const depth = depthBelow(fragment);
      fragments.set(name, depth);
      return depth;
    };

    /** Depth of the selections below `node`; fragments add no level of their own. */
    const depthBelow = (node: ASTNode): number => {
      let depth = 0;
      const selections = 'selectionSet' in node && node.selectionSet ? node.selectionSet.selections : [];
      for (const child of selections) {
        const d =
          child.kind === Kind.FIELD
            ? depthBelow(child) + 1
            : child.kind === Kind.INLINE_FRAGMENT
              ? depthBelow(child)
              : ((f) => (f ? fragmentDepth(f) : 0))(context.getFragment(child.name.value));
        if (d > depth) depth = d;
      }
      return depth;
    };

    return {
      Field(node) {
        if (!ROOTS.has(node.name.value)) return;
        const depth = depthBelow(node);
        if (depth > limit) context.reportError(new GraphQLError(`Introspection depth limit of ${limit} exceeded, found ${depth}.`, { nodes: [node] }));
        return false; // measured whole
      },
    };
  };
}

export function useIntrospectionDepthLimit(limit: number): Plugin {
  const rule = introspectionDepthRule(limit);
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(rule);
    },
  };
}
