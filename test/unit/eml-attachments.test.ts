import { type AddressObject, simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { type EmlInput, parseEml, toEml } from '../../functions/core/eml.ts';
import * as messages from '../../functions/transfers/messages.ts';

/**
 * `.eml` files with attachments, read back by a real mail parser (mailparser, what Nodemailer's
 * users read mail with) as well as by our own `parseEml`; and a message without attachments
 * byte-identical to what `toEml` wrote before attachments existed.
 */

const base: EmlInput = {
  from: 'Credit Control <ar@example.com>',
  to: 'Jörg Müller <joerg@example.com>',
  subject: 'Zahlungserinnerung: 1,234.56 EUR — Müller & Søn',
  text: 'Hallo Jörg,\nzweite Zeile = gleich.\n.\n',
  html: '<p>Hallo J&ouml;rg, 付款</p>\n',
  date: new Date('2026-03-31T07:00:00.000Z'),
  messageId: 'rem-c1-2026-03-31@example.com',
};

/** `toEml(base)` as written before the .eml code moved to core and learnt attachments. */
const BEFORE =
  'From: Credit Control <ar@example.com>\r\n' +
  'To: =?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= <joerg@example.com>\r\n' +
  'Subject: =?UTF-8?B?WmFobHVuZ3NlcmlubmVydW5nOiAxLDIzNC41NiBFVVIg4oCUIE0=?=\r\n' +
  ' =?UTF-8?B?w7xsbGVyICYgU8O4bg==?=\r\n' +
  'Date: Tue, 31 Mar 2026 07:00:00 +0000\r\n' +
  'Message-ID: <rem-c1-2026-03-31@example.com>\r\n' +
  'MIME-Version: 1.0\r\n' +
  'Content-Type: multipart/alternative;\r\n' +
  ' boundary="=_cs_3c2692725ab89094098c059760fb0142"\r\n' +
  '\r\n' +
  'This is a multi-part message in MIME format.\r\n' +
  '--=_cs_3c2692725ab89094098c059760fb0142\r\n' +
  'Content-Type: text/plain; charset=utf-8\r\n' +
  'Content-Transfer-Encoding: quoted-printable\r\n' +
  '\r\n' +
  'Hallo J=C3=B6rg,\r\n' +
  'zweite Zeile =3D gleich.\r\n' +
  '=2E\r\n' +
  '\r\n' +
  '--=_cs_3c2692725ab89094098c059760fb0142\r\n' +
  'Content-Type: text/html; charset=utf-8\r\n' +
  'Content-Transfer-Encoding: quoted-printable\r\n' +
  '\r\n' +
  '<p>Hallo J&ouml;rg, =E4=BB=98=E6=AC=BE</p>\r\n' +
  '\r\n' +
  '--=_cs_3c2692725ab89094098c059760fb0142--\r\n';

const CSV = '\uFEFFCustomer,Invoice,Open\r\nC1,A,1000.00\r\nC1,"=HYPERLINK(""x"")",-5.00\r\n';
const csv = { filename: 'statement-C1-2026-03-31.csv', contentType: 'text/csv; charset=utf-8', content: CSV };
const CHINESE_NAME = '对账单-C1-2026-03-31.csv';
const BINARY = new Uint8Array([0, 1, 2, 0xfe, 0xff, 13, 10, 46]);

const addresses = (a: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => `${v.name} <${v.address}>`));

describe('toEml without attachments', () => {
  it('writes the same bytes as before, with no attachments or an empty list', () => {
    expect(toEml(base)).toBe(BEFORE);
    expect(toEml({ ...base, attachments: [] })).toBe(BEFORE);
    expect(toEml({ ...base, attachments: undefined })).toBe(BEFORE);
  });

  it('is still exported by transfers/messages.ts, the same functions', () => {
    expect(messages.toEml).toBe(toEml);
    expect(messages.parseEml).toBe(parseEml);
  });
});

describe('toEml with attachments, read by mailparser', () => {
  const m = { ...base, attachments: [csv, { ...csv, filename: CHINESE_NAME }] };
  const eml = toEml(m);

  it('is multipart/mixed: the text/HTML alternative first, then each file base64', () => {
    const head = eml.split('\r\n\r\n')[0] as string;
    expect(head).toMatch(/\r\nContent-Type: multipart\/mixed;\r\n boundary="=_cs_m[0-9a-f]{32}"$/);
    const mixed = /boundary="([^"]+)"/.exec(head)?.[1] as string;
    const alternative = /multipart\/alternative;\r\n boundary="([^"]+)"/.exec(eml)?.[1] as string;
    // Neither boundary starts the other (a reader would cut a part at the wrong line).
    expect(mixed.startsWith(alternative) || alternative.startsWith(mixed)).toBe(false);
    expect(eml.indexOf(`--${mixed}\r\nContent-Type: multipart/alternative`)).toBeGreaterThan(0);
    expect(eml.indexOf(`--${alternative}--`)).toBeLessThan(eml.indexOf('Content-Disposition: attachment'));
    expect(eml.endsWith(`--${mixed}--\r\n`)).toBe(true);
    // Printable ASCII and CRLF only, lines of at most 78 characters.
    expect(eml).toMatch(/^[ -~\r\n]*$/);
    expect(eml.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    for (const l of eml.split('\r\n')) expect(l.length).toBeLessThanOrEqual(78);
    expect(eml).toContain('Content-Disposition: attachment;\r\n filename="statement-C1-2026-03-31.csv"');
    // The Chinese name in RFC 2231 form.
    expect(eml).toContain("filename*=UTF-8''%E5%AF%B9%E8%B4%A6%E5%8D%95-C1-2026-03-31.csv");
  });

  it('is deterministic: the same input gives the same bytes', () => {
    expect(toEml(m)).toBe(eml);
    expect(toEml({ ...m, messageId: 'other@example.com' })).not.toBe(eml);
  });

  it('parses with mailparser: headers, text, HTML, and each file with its name, type and bytes', async () => {
    const p = await simpleParser(eml);
    expect(p.subject).toBe(base.subject);
    expect(addresses(p.from)).toEqual(['Credit Control <ar@example.com>']);
    expect(addresses(p.to)).toEqual(['Jörg Müller <joerg@example.com>']);
    expect(p.messageId).toBe('<rem-c1-2026-03-31@example.com>');
    expect(p.date?.toISOString()).toBe('2026-03-31T07:00:00.000Z');
    expect(p.text).toBe(base.text);
    expect(p.html).toBe(base.html);
    expect(p.attachments.map((a) => [a.filename, a.contentType, a.contentDisposition])).toEqual([
      ['statement-C1-2026-03-31.csv', 'text/csv', 'attachment'],
      [CHINESE_NAME, 'text/csv', 'attachment'],
    ]);
    for (const a of p.attachments) {
      // The exact bytes: the BOM, CRLF line ends, the quotes of the escaped cell.
      expect(a.content.equals(Buffer.from(CSV, 'utf8'))).toBe(true);
      expect(a.content.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    }
  });

  it('parses with our parseEml too, nested multipart and all', () => {
    const p = parseEml(eml);
    expect(p.headers.subject).toBe(base.subject);
    expect(p.text).toBe(base.text);
    expect(p.html).toBe(base.html);
    expect(p.attachments.map((a) => [a.filename, a.contentType, a.content.toString('utf8')])).toEqual([
      ['statement-C1-2026-03-31.csv', 'text/csv', CSV],
      [CHINESE_NAME, 'text/csv', CSV],
    ]);
  });

  it('carries binary content and long non-ASCII names (RFC 2231 continuations) exactly', async () => {
    const long = `${'应收账款对账单'.repeat(6)}.bin`;
    const odd = 'a "quoted" name\r\n/../x.csv';
    const e = toEml({
      ...base,
      attachments: [
        { filename: long, contentType: 'application/octet-stream', content: BINARY },
        { filename: odd, contentType: 'text/csv; charset=utf-8', content: 'x\r\n' },
      ],
    });
    for (const l of e.split('\r\n')) expect(l.length).toBeLessThanOrEqual(78);
    expect(e).toContain("filename*0*=UTF-8''");
    const p = await simpleParser(e);
    // Control characters and path separators never reach a file name.
    expect(p.attachments.map((a) => a.filename)).toEqual([long, 'a "quoted" name_.._x.csv']);
    expect(p.attachments[0]?.content.equals(Buffer.from(BINARY))).toBe(true);
    expect(p.attachments[0]?.contentType).toBe('application/octet-stream');
    const ours = parseEml(e).attachments;
    expect(ours.map((a) => a.filename)).toEqual([long, 'a "quoted" name_.._x.csv']);
    expect(ours[0]?.content.equals(Buffer.from(BINARY))).toBe(true);
  });

  it('writes base64 in lines of 76', () => {
    const big = 'x'.repeat(1000);
    const e = toEml({ ...base, attachments: [{ ...csv, content: big }] });
    const body = e.slice(e.lastIndexOf('Content-Disposition'));
    const lines = body.split('\r\n\r\n')[1]?.split('\r\n') ?? [];
    const b64 = lines.filter((l) => /^[A-Za-z0-9+/=]+$/.test(l));
    expect(b64.length).toBe(Math.ceil((Math.ceil(1000 / 3) * 4) / 76));
    for (const l of b64.slice(0, -1)) expect(l.length).toBe(76);
    expect(Buffer.from(b64.join(''), 'base64').toString('utf8')).toBe(big);
  });
});
