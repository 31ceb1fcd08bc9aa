/**
 * The AWS SDK clients' one change from their defaults, on AWS and locally alike: no
 * `loggerMiddleware`. With no SDK logger configured (none is, here: the handlers log through
 * Powertools), that middleware still runs every request's input and every response's output
 * through the schema-walking sensitive-data filter to build a log line nobody receives
 * (@aws-sdk/core: `logger?.info?.({ input: inputFilterSensitiveLog(...), output: ... })` with the
 * NoOpLogger's `info`). Measured on the credit-check bench: the largest single cost on the caller's
 * side, about 8% of its CPU. Returns the client.
 */
export function withoutSdkLogging<C extends { middlewareStack: { remove(name: string): boolean } }>(
  client: C,
): C {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}
