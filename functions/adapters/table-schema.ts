/**
 * The key schema of the single table, shared by the CDK construct that deploys it and the local
 * runtime that creates it on dynalite, so the two can never drift apart.
 */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  gsi: { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /** No item sets it today (upload claims used to expire by it); kept so a deployed table's TTL setting does not change. */
  ttlAttribute: 'expiration',
} as const;
