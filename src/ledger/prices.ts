/**
 * What tokens cost: USD per million input, output and cached-input tokens, by `provider/model`
 * pattern. MODEL_PRICES (JSON) over a built-in table of common models of the 15 providers (list
 * prices as published, checked 2026-11; see the README). The most specific pattern wins: an exact
 * name over a glob, a longer literal part over a shorter. An unknown model costs 0 and is marked
 * `priced: false`, so reports can show what they could not price.
 */
export interface Price {
  readonly input: number;
  readonly output: number;
  /** Cache reads; the input price when the provider does not discount them. */
  readonly cachedInput?: number;
}

export const BUILT_IN_PRICES: Readonly<Record<string, Price>> = {
  'openai/gpt-5': { input: 1.25, output: 10, cachedInput: 0.125 },
  'openai/gpt-5-mini': { input: 0.25, output: 2, cachedInput: 0.025 },
  'openai/gpt-5-nano': { input: 0.05, output: 0.4, cachedInput: 0.005 },
  'openai/gpt-4.1': { input: 2, output: 8, cachedInput: 0.5 },
  'openai/gpt-4.1-mini': { input: 0.4, output: 1.6, cachedInput: 0.1 },
  'openai/gpt-4.1-nano': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'openai/gpt-4o': { input: 2.5, output: 10, cachedInput: 1.25 },
  'openai/gpt-4o-mini': { input: 0.15, output: 0.6, cachedInput: 0.075 },
  'openai/o3': { input: 2, output: 8, cachedInput: 0.5 },
  'openai/o4-mini': { input: 1.1, output: 4.4, cachedInput: 0.275 },
  'openai/text-embedding-3-small': { input: 0.02, output: 0 },
  'openai/text-embedding-3-large': { input: 0.13, output: 0 },
  'anthropic/claude-opus-4-5*': { input: 5, output: 25, cachedInput: 0.5 },
  'anthropic/claude-opus-4*': { input: 15, output: 75, cachedInput: 1.5 },
  'anthropic/claude-sonnet-4*': { input: 3, output: 15, cachedInput: 0.3 },
  'anthropic/claude-haiku-4-5*': { input: 1, output: 5, cachedInput: 0.1 },
  'anthropic/claude-3-5-haiku*': { input: 0.8, output: 4, cachedInput: 0.08 },
  'groq/llama-3.3-70b-versatile': { input: 0.59, output: 0.79 },
  'groq/llama-3.1-8b-instant': { input: 0.05, output: 0.08 },
  'groq/openai/gpt-oss-120b': { input: 0.15, output: 0.75 },
  'deepseek/deepseek-chat': { input: 0.27, output: 1.1, cachedInput: 0.07 },
  'deepseek/deepseek-reasoner': { input: 0.55, output: 2.19, cachedInput: 0.14 },
  'google/gemini-2.5-pro': { input: 1.25, output: 10, cachedInput: 0.31 },
  'google/gemini-2.5-flash': { input: 0.3, output: 2.5, cachedInput: 0.075 },
  'google/gemini-2.0-flash': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'mistral/mistral-large-latest': { input: 2, output: 6 },
  'mistral/mistral-small-latest': { input: 0.2, output: 0.6 },
  'mistral/mistral-embed': { input: 0.1, output: 0 },
  'cohere/command-r-plus*': { input: 2.5, output: 10 },
  'cohere/command-r7b*': { input: 0.0375, output: 0.15 },
  'cohere/command-r-*': { input: 0.15, output: 0.6 },
  'moonshot/kimi-k2*': { input: 0.6, output: 2.5, cachedInput: 0.15 },
  'minimax/MiniMax-M2*': { input: 0.3, output: 1.2 },
  'zai/glm-4.6': { input: 0.6, output: 2.2, cachedInput: 0.11 },
  // Self-hosted: no per-token price, but priced (0) rather than unknown.
  'ollama/*': { input: 0, output: 0 },
  'llamacpp/*': { input: 0, output: 0 },
};

export interface Tokens {
  readonly input: number;
  readonly output: number;
  /** Of `input`, read from the provider's prompt cache. */
  readonly cached?: number;
}

interface Rule {
  readonly pattern: string;
  readonly regex: RegExp | undefined;
  readonly specificity: number;
  readonly price: Price;
}

export class PriceBook {
  private readonly exact = new Map<string, Price>();
  private readonly globs: Rule[] = [];
  private readonly resolved = new Map<string, Price | null>();

  /** `overrides` (MODEL_PRICES) win over the built-in table for the same pattern. */
  constructor(overrides: Readonly<Record<string, Price>> = {}) {
    for (const [pattern, price] of Object.entries({ ...BUILT_IN_PRICES, ...overrides })) {
      if (!pattern.includes('*')) this.exact.set(pattern, price);
      else {
        const regex = new RegExp(`^${pattern.split('*').map(escape).join('.*')}$`);
        this.globs.push({ pattern, regex, specificity: pattern.replaceAll('*', '').length, price });
      }
    }
    this.globs.sort((a, b) => b.specificity - a.specificity);
  }

  priceOf(provider: string, model: string): Price | undefined {
    const key = `${provider}/${model}`;
    let price = this.resolved.get(key);
    if (price === undefined) {
      price = this.exact.get(key) ?? this.globs.find((g) => g.regex!.test(key))?.price ?? null;
      if (this.resolved.size < 10_000) this.resolved.set(key, price);
    }
    return price ?? undefined;
  }

  /** USD for a call's tokens, and whether the model had a price. */
  cost(provider: string, model: string, tokens: Tokens): { usd: number; priced: boolean } {
    const price = this.priceOf(provider, model);
    if (!price) return { usd: 0, priced: false };
    const cached = Math.min(tokens.cached ?? 0, tokens.input);
    const usd = ((tokens.input - cached) * price.input + cached * (price.cachedInput ?? price.input) + tokens.output * price.output) / 1_000_000;
    return { usd, priced: true };
  }
}

const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\/]/g, '\\$&');
