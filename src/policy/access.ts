/**
 * Role-based model access: `MODEL_ACCESS_RULES` maps a role (a Keycloak realm role, or a client role
 * written `client:role`) to the models it opens. A caller may use a model when any of its roles has a
 * pattern matching `provider/model`. No rules configured = no role check (ALLOWED_MODELS and
 * DISALLOWED_MODELS still apply, and both must agree).
 */
import type { Identity } from '../auth/identity.js';

export class ModelAccess {
  private readonly rules: ReadonlyMap<string, readonly RegExp[]>;

  constructor(rules: ReadonlyMap<string, readonly string[]>) {
    this.rules = new Map([...rules].map(([role, patterns]) => [role, patterns.map(globToRegExp)]));
  }

  get enabled(): boolean {
    return this.rules.size > 0;
  }

  /** Whether `identity` may use `provider/model`. Without rules, everyone may. */
  allows(identity: Identity | null, provider: string, model: string): boolean {
    if (this.rules.size === 0) return true;
    if (!identity) return false;
    const full = `${provider}/${model}`;
    for (const role of identity.roles) {
      const patterns = this.rules.get(role);
      if (patterns?.some((p) => p.test(full) || p.test(model))) return true;
    }
    return false;
  }

  /** Whether `identity` may use every model of `provider` (what raw `/proxy/{provider}` access needs). */
  allowsWholeProvider(identity: Identity | null, provider: string): boolean {
    if (this.rules.size === 0) return true;
    if (!identity) return false;
    // A pattern opens the whole provider when it matches a model name no real model has.
    return this.allows(identity, provider, '\u0000any-model\u0000');
  }

  /** The caller's roles that have rules, for error messages. */
  describe(identity: Identity | null): string {
    const roles = identity?.roles.filter((r) => this.rules.has(r)) ?? [];
    return roles.length > 0 ? `roles ${roles.join(', ')}` : 'no role with model access';
  }
}

/** `*` matches any run of characters (slashes included); everything else is literal; case-insensitive. */
function globToRegExp(pattern: string): RegExp {
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`, 'i');
}
