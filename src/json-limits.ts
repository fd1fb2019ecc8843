/**
 * Limits on free-form values from outside. JSON the gateway forwards: A value nested thousands deep parses fine but
 * overflows the stack when serialised again, so it is refused up front with a clear message.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` nests arrays/objects deeper than `max` levels (iterative: safe on any input). */
export function exceedsDepth(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * A provider's timestamp as unix seconds that fit a GraphQL Int (the contract's type), or undefined.
 * Some providers report milliseconds or fractions; 2038 is the Int's limit.
 */
export function unixSeconds(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return undefined;
  const seconds = Math.floor(value > 1e11 ? value / 1000 : value);
  return seconds <= 2_147_483_647 ? seconds : undefined;
}
