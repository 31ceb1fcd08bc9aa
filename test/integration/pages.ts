/** Reading the console's server-rendered pages in tests: text as a person sees it, table rows. */

export function decode(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The text of an HTML fragment: tags dropped, entities decoded, whitespace collapsed. */
export const text = (fragment: string) =>
  decode(fragment.replace(/<[^>]*>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();

/** The rows of the HTML tables of a page, each as its cells' text. */
export function rows(page: string): string[][] {
  return [...page.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((m) =>
    [...(m[1] as string).matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((c) => text(c[1] as string)),
  );
}

export const rowStarting = (page: string, first: string) => rows(page).find((r) => r[0] === first);
