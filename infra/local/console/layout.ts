import { createHash } from 'node:crypto';

// ---------------------------------------------------------------------------------------------
// HTML building: interpolations are escaped unless they are already Html.

export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type Part = Html | string | number | boolean | null | undefined | readonly Part[];

export const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

export function render(v: Part): string {
  if (v === null || v === undefined || v === false || v === true) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return (v as readonly Part[]).map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] as string;
  for (let i = 0; i < values.length; i++) out += render(values[i] as Part) + (strings[i + 1] as string);
  return new Html(out);
}

export const CSS = `
:root{--fg:#1d2430;--muted:#5d6675;--line:#e2e5ea;--head:#f4f5f7;--accent:#1f5fbf;--red:#a8261b;--redbg:#fcebe9;--green:#1e6b34;--greenbg:#e6f4ea}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:#fff;overflow-wrap:break-word}
header{display:flex;flex-wrap:wrap;gap:.3rem 2rem;align-items:baseline;padding:.7rem 1.5rem;border-bottom:1px solid var(--line);background:var(--head)}
header .brand{font-weight:600}
header nav a{margin-right:1.1rem}
main{padding:1rem 1.5rem 3rem}
a{color:var(--accent);text-decoration:none}
a:hover{text-decoration:underline}
h1{font-size:1.35rem;margin:.4rem 0 1rem}
h2{font-size:1.05rem;margin:1.8rem 0 .5rem}
.wrap{overflow-x:auto}
svg.chart{max-width:100%;height:auto;display:block}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:.35rem .65rem;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap;vertical-align:top}
thead th{background:var(--head);font-weight:600}
.num{text-align:right}
.ccy{color:var(--muted);font-size:.82em}
.zero{color:#9aa1ab}
.late{color:var(--red)}
td.late{background:var(--redbg)}
tfoot td{font-weight:600;border-top:2px solid var(--fg);border-bottom:none}
.muted{color:var(--muted)}
.note{background:#fff8e1;border-left:3px solid #e0a800;padding:.5rem .8rem;margin:.8rem 0;max-width:60rem}
.mail{border-top:1px solid var(--line);padding:.4rem 0 1rem}
.mailtext{white-space:pre-wrap;overflow-wrap:anywhere;max-width:60rem;background:var(--head);padding:.6rem .8rem}
.problem{background:var(--redbg);border-left:3px solid var(--red);padding:.6rem .9rem;max-width:60rem}
dl.kv{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2rem 1.2rem;margin:0}
dl.kv dt{color:var(--muted)}
dl.kv dd{margin:0;overflow-wrap:anywhere}
.cols{display:flex;flex-wrap:wrap;gap:1rem 3rem}
.badge{display:inline-block;padding:0 .45rem;border-radius:3px;font-size:.85em}
.ok{background:var(--greenbg);color:var(--green)}
.bad{background:var(--redbg);color:var(--red)}
form.asof{display:flex;gap:.5rem;align-items:center;margin:0 0 1rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em;white-space:pre-wrap;overflow-wrap:anywhere}
td.wide{white-space:normal;min-width:16rem;max-width:40rem}
.sev-critical{background:#7a1a12;color:#fff}
.sev-high{background:var(--redbg);color:var(--red)}
.sev-warning{background:#fff3cd;color:#7a5300}
.sev-info{background:#e8eef8;color:#1f4a8a}
.rating{font-weight:600;font-size:1.1em}
ul.basis{margin:.3rem 0;padding-left:1.2rem}
ul.evidence{margin:0;padding:0;list-style:none;font-size:.9em}
ul.evidence span{color:var(--muted)}
code.word{white-space:nowrap;word-break:normal}
td.text{white-space:normal;min-width:10rem;max-width:24rem}
.pre{white-space:pre-wrap}
.problem ul{margin:.3rem 0 0;padding-left:1.2rem}
form.request{display:grid;grid-template-columns:max-content minmax(14rem,28rem) minmax(0,1fr);gap:.5rem 1rem;align-items:start;max-width:72rem;margin:.6rem 0 1.5rem}
form.request label{padding-top:.3rem}
form.request input,form.request select,form.request textarea{width:100%;font:inherit;padding:.3rem .45rem;border:1px solid #b8bec8;border-radius:3px;background:#fff}
form.request [aria-invalid=true]{border-color:var(--red);background:var(--redbg)}
form.request .err{display:block;color:var(--red);padding-top:.3rem}
form.request .hint{display:block;color:var(--muted);font-size:.88em;padding-top:.3rem}
form.request .actions{grid-column:2}
form.request button{font:inherit;padding:.4rem 1.1rem;border-radius:4px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
tbody.level th{background:#fafbfc;border-top:2px solid var(--line);font-weight:600}
section.evidence{max-width:72rem}
section.evidence p{margin:.3rem 0}
section.evidence p.title{margin:1.2rem 0 .35rem;font-size:1rem}
section.evidence table{margin:.2rem 0 .6rem;display:block;max-width:100%;overflow-x:auto}
p.shown{margin:.6rem 0 .4rem;font-weight:600}
nav.pager{margin:.7rem 0 1.2rem}
nav.pager a{margin-right:.3rem}
nav.filters{margin:.3rem 0 .6rem;line-height:1.9}
nav.filters strong{font-weight:600}
form.answer{display:flex;flex-wrap:wrap;gap:.4rem .8rem;align-items:center;margin:.3rem 0}
form.answer input:not([type]){font:inherit;padding:.2rem .4rem;border:1px solid #b8bec8;border-radius:3px;width:9rem}
form.answer input[type=date]{font:inherit;padding:.15rem .3rem;border:1px solid #b8bec8;border-radius:3px}
form.answer button,form.inline button{font:inherit;padding:.2rem .7rem;border-radius:4px;border:1px solid var(--accent);background:#fff;color:var(--accent);cursor:pointer}
form.answer .buttons{display:flex;gap:.4rem}
form.bulk{background:var(--head);border:1px solid var(--line);padding:.5rem .8rem;max-width:72rem}
details.answer summary{cursor:pointer;color:var(--accent)}
details.answer form.answer{flex-direction:column;align-items:flex-start;white-space:normal}
details.score summary{cursor:pointer;color:var(--accent)}
details.score ul{white-space:normal;text-align:left;min-width:16rem;max-width:26rem}
label.pick{display:inline-flex;gap:.35rem;align-items:center}
p.done{background:var(--greenbg);border-left:3px solid var(--green);padding:.5rem .8rem;max-width:60rem}
ul.picks{list-style:none;padding:0;margin:.2rem 0 .4rem}
ul.picks li{margin:.15rem 0}
form.request .picker{display:flex;gap:.4rem}
form.request .picker button{padding:.25rem .8rem;background:#fff;color:var(--accent)}
form.request ul.picks button{padding:.1rem .6rem;background:#fff;color:var(--accent);text-align:left;max-width:100%;overflow-wrap:anywhere}
/* A phone (about 40 characters across): one column, tighter margins; wide tables still scroll in their .wrap. */
@media (max-width:40rem){
header{padding:.6rem 1rem}
header nav a{margin-right:.25rem}
main{padding:.8rem 1rem 2.5rem}
dl.kv{grid-template-columns:minmax(0,1fr);gap:0}
dl.kv dd{margin:0 0 .45rem}
form.request{grid-template-columns:minmax(0,1fr);gap:.25rem}
form.request label{padding-top:.7rem}
form.request .actions{grid-column:auto}
.cols{gap:0 1.5rem}
}
`;

// The only inline content is the stylesheet: the CSP allows exactly it, and no script at all.
export const CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`;

export type Section =
  | 'customers'
  | 'alerts'
  | 'approvals'
  | 'runs'
  | 'transfers'
  | 'reviews'
  | 'applications'
  | 'checks'
  | 'collections'
  | 'outbox'
  | 'ops'
  | 'forecast'
  | '';

export const navLink = (href: string, label: string, on: boolean) =>
  html`<a href="${href}"${new Html(on ? ' aria-current="page"' : '')}>${label}</a>`;

export function page(title: string, body: Html, active: Section = ''): string {
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · credit-sentinel</title>
<style>${new Html(CSS)}</style>
</head>
<body>
<header><span class="brand">credit-sentinel</span>
<nav>${navLink('/customers', 'Customers', active === 'customers')}&nbsp;· ${navLink('/alerts', 'Alerts', active === 'alerts')}&nbsp;· ${navLink('/approvals', 'Approvals', active === 'approvals')}&nbsp;· ${navLink('/runs', 'Runs', active === 'runs')}&nbsp;· ${navLink('/transfers', 'Transfers', active === 'transfers')}&nbsp;· ${navLink('/reviews', 'Reviews', active === 'reviews')}&nbsp;· ${navLink('/applications', 'Applications', active === 'applications')}&nbsp;· ${navLink('/credit-checks', 'Checks', active === 'checks')}&nbsp;· ${navLink('/collections', 'Collections', active === 'collections')}&nbsp;· ${navLink('/forecast', 'Forecast', active === 'forecast')}&nbsp;· ${navLink('/outbox', 'Outbox', active === 'outbox')}&nbsp;· ${navLink('/ops', 'Ops', active === 'ops')}</nav>
</header>
<main>
${body}
</main>
</body>
</html>
`}`;
}

export const kv = (pairs: [string, Part][]) =>
  html`<dl class="kv">${pairs.map(([k, v]) => html`<dt>${k}</dt><dd>${v === undefined || v === '' ? html`<span class="muted">—</span>` : v}</dd>`)}</dl>`;
