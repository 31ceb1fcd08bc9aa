import { createHash } from 'node:crypto';

/**
 * The `.eml` file an email travels as (RFC 5322 / MIME): written by `toEml`, read back by
 * `parseEml`. The approval emails and the dunning reminder both go out this way; the local stack's
 * outbox holds these files. Pure: no I/O, no randomness (the same input gives the same bytes).
 */

const CRLF = '\r\n';
const HEADER_LINE = 78;
const QP_LINE = 76;
const BASE64_LINE = 76;

/** Control characters (C0, DEL, C1) and the Unicode line and paragraph separators. */
const CONTROL = /[\p{Cc}\u2028\u2029]+/gu;

const hex2 = (b: number) => b.toString(16).toUpperCase().padStart(2, '0');

/**
 * Quoted-printable (RFC 2045 6.7) of UTF-8 text: line breaks of any kind become CRLF hard breaks;
 * `=`, bytes outside printable ASCII, whitespace ending a line and a dot starting one are encoded;
 * lines are cut with soft breaks so none exceeds 76 characters, never inside an `=XX`.
 */
export function encodeQuotedPrintable(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => {
      const bytes = Buffer.from(line, 'utf8');
      const out: string[] = [];
      let cur = '';
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i] as number;
        const last = i === bytes.length - 1;
        const literal = (b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && !last);
        let token = literal ? String.fromCharCode(b) : `=${hex2(b)}`;
        if (cur.length + token.length > QP_LINE - 1) {
          out.push(`${cur}=`);
          cur = '';
        }
        // A lone "." starting a line ends an SMTP message on careless relays.
        if (cur === '' && token === '.') token = '=2E';
        cur += token;
      }
      out.push(cur);
      return out.join(CRLF);
    })
    .join(CRLF);
}

/** The bytes of quoted-printable; hard line breaks come back as `\n`. */
function quotedPrintableBytes(qp: string): Buffer {
  const lines = qp.split(/\r\n|\n/);
  const bytes: number[] = [];
  lines.forEach((raw, n) => {
    // Transport may add trailing whitespace: RFC 2045 has decoders drop it.
    let line = raw.replace(/[ \t]+$/, '');
    const soft = line.endsWith('=');
    if (soft) line = line.slice(0, -1);
    const b = Buffer.from(line, 'utf8');
    for (let i = 0; i < b.length; i++) {
      const c = b[i] as number;
      const h = c === 61 ? b.subarray(i + 1, i + 3).toString('latin1') : '';
      if (/^[0-9A-Fa-f]{2}$/.test(h)) {
        bytes.push(Number.parseInt(h, 16));
        i += 2;
      } else bytes.push(c);
    }
    if (!soft && n < lines.length - 1) bytes.push(10);
  });
  return Buffer.from(bytes);
}

/** Decodes quoted-printable into UTF-8 text; hard line breaks come back as `\n`. */
export function decodeQuotedPrintable(qp: string): string {
  return quotedPrintableBytes(qp).toString('utf8');
}

/** RFC 2047 B encoded-words of `s`, each whole characters, at most 64 characters long. */
function encodedWords(s: string): string[] {
  const words: string[] = [];
  let chunk: Buffer[] = [];
  let size = 0;
  const flush = () => {
    if (size > 0) words.push(`=?UTF-8?B?${Buffer.concat(chunk).toString('base64')}?=`);
    chunk = [];
    size = 0;
  };
  for (const ch of s) {
    const b = Buffer.from(ch, 'utf8');
    if (size + b.length > 39) flush();
    chunk.push(b);
    size += b.length;
  }
  flush();
  return words;
}

/** Printable ASCII that no decoder would mistake for an encoded-word. */
const plainHeader = (s: string) => /^[\x20-\x7e]*$/.test(s) && !s.includes('=?');

/**
 * One header field, folded at spaces to lines of at most 78 characters where the words allow.
 * Unfolding (dropping each CRLF before a space) gives the value back exactly.
 */
function header(name: string, value: string, kind: 'text' | 'address' | 'raw' = 'raw'): string {
  const v = value.replace(/[\r\n]+/g, ' ');
  let parts: string[];
  if (kind === 'raw' || plainHeader(v)) parts = v.split(' ');
  else if (kind === 'address') {
    const m = /^\s*"?([^"<>]*?)"?\s*<([^<>\s]+)>\s*$/.exec(v);
    parts = m ? [...encodedWords(m[1] as string), `<${m[2]}>`] : encodedWords(v);
  } else parts = encodedWords(v);
  let line = `${name}: ${parts[0] ?? ''}`;
  const lines: string[] = [];
  for (const p of parts.slice(1)) {
    if (p !== '' && line.trim() !== `${name}:` && line.length + 1 + p.length > HEADER_LINE) {
      lines.push(line);
      line = ` ${p}`;
    } else line += ` ${p}`;
  }
  lines.push(line);
  return lines.join(CRLF);
}

/** RFC 5322 date-time in UTC: `Mon, 30 Jun 2025 05:00:03 +0000`. */
function rfc5322Date(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new Error('the message date is not a valid date');
  return d.toUTCString().replace(/GMT$/, '+0000');
}

/** A file sent with the message. Text content goes as UTF-8. */
export interface EmlAttachment {
  readonly filename: string;
  /** `text/csv; charset=utf-8`: the media type and its parameters (the name is added). */
  readonly contentType: string;
  readonly content: string | Uint8Array;
}

export interface EmlInput {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly date: Date;
  /** `id@domain`, without the angle brackets. */
  readonly messageId: string;
  readonly attachments?: readonly EmlAttachment[] | undefined;
}

/** RFC 2231 attribute-chars: what a parameter's extended value keeps as it is. */
const ATTRIBUTE_CHAR = /^[A-Za-z0-9!#$&+\-.^_`|~]$/;
/** Longest parameter segment on a folded line (the line is one space longer, plus a `;`). */
const PARAM_MAX = HEADER_LINE - 4;

/**
 * A header parameter as folded segments: `name="value"` for short printable ASCII; otherwise the
 * RFC 2231 extended form `name*=UTF-8''%E5...`, cut into `name*0*=`, `name*1*=`... continuations
 * (never inside a `%XX`) when one line cannot hold it. Mail clients read both.
 */
function param(name: string, value: string): string[] {
  const quoted = `${name}="${value}"`;
  if (/^[\x20-\x7e]*$/.test(value) && !/["\\]/.test(value) && quoted.length <= PARAM_MAX) return [quoted];
  const tokens = [...Buffer.from(value, 'utf8')].map((b) => {
    const c = String.fromCharCode(b);
    return ATTRIBUTE_CHAR.test(c) ? c : `%${hex2(b)}`;
  });
  const whole = `${name}*=UTF-8''${tokens.join('')}`;
  if (whole.length <= PARAM_MAX) return [whole];
  const out: string[] = [];
  let cur = `${name}*0*=UTF-8''`;
  for (const t of tokens) {
    if (cur.length + t.length > PARAM_MAX) {
      out.push(cur);
      cur = `${name}*${out.length}*=`;
    }
    cur += t;
  }
  out.push(cur);
  return out;
}

/** A header whose value is a token and parameters, each parameter on a folded line of its own. */
const withParams = (name: string, value: string, params: readonly string[]) =>
  [`${name}: ${value}`, ...params].join(`;${CRLF} `);

/** A boundary: `=_` starts it, which neither quoted-printable nor base64 ever writes. */
const boundaryOf = (tag: string, id: string) =>
  `=_cs_${tag}${createHash('sha256').update(id).digest('hex').slice(0, 32)}`;

/** A file name as a header may carry it: no control characters, no path. */
const safeFilename = (s: string) => s.replace(CONTROL, '').replace(/[\\/]/g, '_').trim() || 'attachment';

/**
 * An RFC 5322 / MIME 1.0 message: `multipart/alternative` with the text then the HTML part, both
 * UTF-8 quoted-printable, CRLF throughout. The boundary comes from the message id (no randomness:
 * the same input gives the same bytes); it starts with `=_`, which quoted-printable never writes.
 *
 * With attachments the message is `multipart/mixed`: that same alternative first (what a reader
 * shows as the body), then each file base64, `Content-Disposition: attachment`. Its own boundary
 * comes from the message id too, and neither boundary starts the other.
 */
export function toEml(m: EmlInput): string {
  const id = m.messageId.replace(/[\r\n<>\s]+/g, '');
  const boundary = boundaryOf('', id);
  const part = (type: string, body: string) =>
    [
      `--${boundary}`,
      `Content-Type: ${type}; charset=utf-8`,
      'Content-Transfer-Encoding: quoted-printable',
      '',
      encodeQuotedPrintable(body),
    ].join(CRLF);
  const alternative = [part('text/plain', m.text), part('text/html', m.html), `--${boundary}--`, ''];
  const head = [
    header('From', m.from, 'address'),
    header('To', m.to, 'address'),
    header('Subject', m.subject, 'text'),
    header('Date', rfc5322Date(m.date)),
    header('Message-ID', `<${id}>`),
    'MIME-Version: 1.0',
  ];
  const files = m.attachments ?? [];
  // Without files, the bytes are those of every message sent before attachments existed.
  if (files.length === 0)
    return [
      ...head,
      `Content-Type: multipart/alternative;${CRLF} boundary="${boundary}"`,
      '',
      'This is a multi-part message in MIME format.',
      ...alternative,
    ].join(CRLF);

  const mixed = boundaryOf('m', id);
  const attachment = (a: EmlAttachment) => {
    const name = safeFilename(a.filename);
    const bytes = typeof a.content === 'string' ? Buffer.from(a.content, 'utf8') : Buffer.from(a.content);
    const type = a.contentType.replace(/[\r\n]+/g, ' ').trim();
    return [
      `--${mixed}`,
      withParams('Content-Type', type, param('name', name)),
      'Content-Transfer-Encoding: base64',
      withParams('Content-Disposition', 'attachment', param('filename', name)),
      '',
      ...(bytes.toString('base64').match(new RegExp(`.{1,${BASE64_LINE}}`, 'g')) ?? []),
    ].join(CRLF);
  };
  return [
    ...head,
    `Content-Type: multipart/mixed;${CRLF} boundary="${mixed}"`,
    '',
    'This is a multi-part message in MIME format.',
    `--${mixed}`,
    `Content-Type: multipart/alternative;${CRLF} boundary="${boundary}"`,
    '',
    ...alternative,
    ...files.map(attachment),
    `--${mixed}--`,
    '',
  ].join(CRLF);
}

/** Decodes RFC 2047 encoded-words (B and Q); whitespace between two adjacent words goes. */
function decodeHeader(v: string): string {
  const word = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/;
  const adjacent = new RegExp(`${word.source}(?:[ \\t]+(?=${word.source}))?`, 'g');
  return v.replace(adjacent, (all, charset: string, enc: string, data: string) => {
    const bytes =
      enc.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64')
        : Buffer.from(
            data
              .replace(/_/g, ' ')
              .replace(/=([0-9A-Fa-f]{2})/g, (_: string, h: string) =>
                String.fromCharCode(Number.parseInt(h, 16)),
              ),
            'latin1',
          );
    try {
      return new TextDecoder(charset.replace(/\*.*$/, '')).decode(bytes);
    } catch {
      return all;
    }
  });
}

/** Header fields (names lower case, folding undone, encoded-words decoded) and the body. */
function splitEntity(raw: string): { headers: Record<string, string>; body: string } {
  const end = /\r?\n\r?\n/.exec(raw);
  const head = end ? raw.slice(0, end.index) : raw;
  const body = end ? raw.slice(end.index + end[0].length) : '';
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!(name in headers)) headers[name] = decodeHeader(line.slice(colon + 1).replace(/^[ \t]+/, ''));
  }
  return { headers, body };
}

function decodeBytes(body: string, encoding: string | undefined): Buffer {
  switch ((encoding ?? '7bit').trim().toLowerCase()) {
    case 'quoted-printable':
      return quotedPrintableBytes(body);
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64');
    default:
      return Buffer.from(body.replace(/\r\n/g, '\n'), 'utf8');
  }
}

/** A header value's parameters by lower-case name (quotes undone), without the leading value. */
function paramsOf(v: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g;
  for (let m = re.exec(v); m; m = re.exec(v)) {
    const name = (m[1] as string).toLowerCase();
    if (!(name in out)) out[name] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return out;
}

/** A parameter's value, RFC 2231 extended values and continuations (`name*0*=`...) joined and decoded. */
function paramValue(params: Record<string, string>, name: string): string | undefined {
  const extended = (v: string, first: boolean) => {
    const m = first ? /^([^']*)'[^']*'(.*)$/.exec(v) : null;
    return { charset: m?.[1] || 'utf-8', data: m ? (m[2] as string) : v };
  };
  const pct = (s: string) =>
    Buffer.from(
      s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
      'latin1',
    );
  const decode = (bytes: Buffer, charset: string) => {
    try {
      return new TextDecoder(charset).decode(bytes);
    } catch {
      return bytes.toString('utf8');
    }
  };
  const star = params[`${name}*`];
  if (star !== undefined) {
    const e = extended(star, true);
    return decode(pct(e.data), e.charset);
  }
  if (params[`${name}*0*`] !== undefined || params[`${name}*0`] !== undefined) {
    let charset = 'utf-8';
    const chunks: Buffer[] = [];
    for (let i = 0; ; i++) {
      const enc = params[`${name}*${i}*`];
      const plain = params[`${name}*${i}`];
      if (enc !== undefined) {
        const e = extended(enc, i === 0);
        if (i === 0) charset = e.charset;
        chunks.push(pct(e.data));
      } else if (plain !== undefined) chunks.push(Buffer.from(plain, 'utf8'));
      else break;
    }
    return decode(Buffer.concat(chunks), charset);
  }
  return params[name];
}

export interface ParsedAttachment {
  readonly filename: string;
  /** The media type, lower case, without its parameters: `text/csv`. */
  readonly contentType: string;
  readonly content: Buffer;
}

/**
 * Reads a message `toEml` wrote (or a similar one): header names lower case (`subject`, `from`,
 * `message-id`), encoded-words decoded, the decoded text and HTML parts (`''` when absent, the
 * first of each), and the attachments (parts with a file name or `Content-Disposition:
 * attachment`), multiparts nested at any depth.
 */
export function parseEml(eml: string): {
  headers: Record<string, string>;
  text: string;
  html: string;
  attachments: ParsedAttachment[];
} {
  let text = '';
  let html = '';
  const attachments: ParsedAttachment[] = [];
  const walk = (headers: Record<string, string>, body: string, depth: number) => {
    const ct = headers['content-type'] ?? 'text/plain';
    const type = (ct.split(';')[0] as string).trim().toLowerCase();
    const boundary = paramsOf(ct).boundary;
    if (type.startsWith('multipart/') && boundary && depth < 8) {
      const b = boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const delimiter = new RegExp(`(?:^|\\r?\\n)--${b}(--)?[ \\t]*(?:\\r?\\n|$)`, 'g');
      let start: number | undefined;
      for (let m = delimiter.exec(body); m; m = delimiter.exec(body)) {
        if (start !== undefined) {
          const p = splitEntity(body.slice(start, m.index));
          walk(p.headers, p.body, depth + 1);
        }
        if (m[1] === '--') break;
        start = m.index + m[0].length;
      }
      return;
    }
    const disposition = headers['content-disposition'] ?? '';
    const filename = paramValue(paramsOf(disposition), 'filename') ?? paramValue(paramsOf(ct), 'name');
    const bytes = decodeBytes(body, headers['content-transfer-encoding']);
    if (/^\s*attachment/i.test(disposition) || filename !== undefined)
      attachments.push({ filename: filename ?? '', contentType: type, content: bytes });
    else if (type === 'text/html') html ||= bytes.toString('utf8');
    else if (type === 'text/plain') text ||= bytes.toString('utf8');
  };
  const { headers, body } = splitEntity(eml);
  walk(headers, body, 0);
  return { headers, text, html, attachments };
}
