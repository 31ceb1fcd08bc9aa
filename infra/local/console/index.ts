/**
 * The local console: the receivables table, a customer's file and credit assessment, the alerts,
 * the ingest runs, the transfers and the outbox, server-rendered with `node:http` only. Every value
 * that comes from data (uploaded files) is HTML-escaped through the `html` template tag; the pages
 * load no script at all. Its own forms answer alerts (`POST /alerts/answer`), request a transfer
 * (`POST /transfers/new`), recall or mark one paid, each through the same application code as the
 * CLI, and each refused when the browser says it comes from another site. The approval pages, Slack's endpoint and the transfers API are the transfers
 * handler the Lambdas run, mounted here; they and the form are the only paths that accept a POST.
 */
/*
 * One module per area: customers.ts (the receivables table and a customer's
 * file), alerts.ts, runs.ts, transfers.ts (the transfers, the request form and the outbox),
 * reviews.ts, ops.ts; layout.ts (the HTML tag, the stylesheet, the page frame), shared.ts
 * (formatting, replies, parameters), paging.ts, and server.ts (routing, the cross-site and Host
 * guards, the HTTP server). What the rest of the product uses of it is exported here.
 */
export type { ConsoleCredit, ConsoleOptions, ConsoleTransfers, RunningConsole } from './options.ts';
export type { ConsoleReviews } from './reviews.ts';
export { startConsole } from './server.ts';
