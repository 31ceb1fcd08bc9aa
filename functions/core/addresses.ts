/**
 * An address nobody can receive at: a domain RFC 2606 and 6761 reserve for examples and tests
 * (example.com, .org, .net; .example, .test, .invalid, .localhost).
 */
export function isExampleAddress(email: string): boolean {
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return /^(.+\.)?example\.(com|org|net)$/.test(domain) || /\.(example|test|invalid|localhost)$/.test(domain);
}
