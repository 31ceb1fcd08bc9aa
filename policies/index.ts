// The policy shipped with the product. Imported (not read from disk) so Lambda bundles carry it.
import defaultPolicy from './default.json' with { type: 'json' };

export const DEFAULT_POLICY_DOCUMENT: unknown = defaultPolicy;
