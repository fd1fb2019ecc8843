/** Who is calling, as proven by a verified token. Resolvers, limits and logs read this. */
export interface Identity {
  /** `sub` of the token. */
  readonly subject: string;
  /** `azp` (the OAuth client the token was issued to), when present. */
  readonly clientId: string | undefined;
  /** Realm roles and client roles (`client:role`), flattened. */
  readonly roles: readonly string[];
  readonly claims: Readonly<Record<string, unknown>>;
  /** Expiry, unix seconds. */
  readonly expiresAt: number | undefined;
}
