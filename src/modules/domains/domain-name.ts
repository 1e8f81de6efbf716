import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { z } from 'zod';

// What an org may claim: an email domain it can prove with a DNS TXT record. Names are stored
// in their ASCII (IDNA) form, lower-case, without the root's trailing dot, so one domain has
// one spelling and the unique indexes compare like with like.

/**
 * Before IDNA mapping: letters (any script), marks, digits, hyphens, underscores (refused later,
 * with a clearer reason) and the dots IDNA treats as label separators. This refuses what the
 * WHATWG host parser behind domainToASCII would otherwise decode or split on: `%41`, `@`, `:`, `/`.
 */
const hostCharacters = /^[\p{L}\p{M}\p{N}\-_.\u3002\uff0e\uff61]+$/u;

/** RFC 1035 §2.3.1 letter-digit-hyphen labels (IDNA A-labels are of this form too). */
const label = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Suffixes under which anyone can register a name (a few common ones from the Public Suffix
 * List): claiming one would claim every customer's domain under it.
 */
const publicSuffixes = new Set([
  'co.uk', 'org.uk', 'me.uk', 'ltd.uk', 'plc.uk', 'ac.uk', 'gov.uk', 'net.uk',
  'com.au', 'net.au', 'org.au', 'edu.au', 'gov.au', 'co.nz', 'org.nz', 'net.nz',
  'co.jp', 'ne.jp', 'or.jp', 'ac.jp', 'com.br', 'net.br', 'org.br', 'com.cn', 'net.cn', 'org.cn',
  'co.in', 'net.in', 'org.in', 'co.za', 'org.za', 'com.mx', 'org.mx', 'co.kr', 'or.kr',
  'com.tr', 'com.tw', 'com.hk', 'com.sg', 'com.ar', 'co.il', 'com.pl', 'co.id',
  'github.io', 'gitlab.io', 'herokuapp.com', 'vercel.app', 'netlify.app', 'pages.dev', 'workers.dev',
  'blogspot.com', 'appspot.com', 'azurewebsites.net', 'cloudfront.net', 'amazonaws.com', 'web.app', 'firebaseapp.com',
]);

/** The reason `input` is not a claimable domain, or its canonical form. */
export function canonicalDomain(input: string): { domain: string } | { problem: string } {
  const trimmed = input.trim().toLowerCase().replace(/\.$/, '');
  if (trimmed === '') return { problem: 'a domain name is required' };
  if (isIP(trimmed) || isIP(trimmed.replace(/^\[|\]$/g, ''))) return { problem: 'an IP address is not a domain name' };
  if (!hostCharacters.test(trimmed)) return { problem: 'only letters, digits, hyphens and dots' };
  const ascii = domainToASCII(trimmed);
  if (ascii === '') return { problem: 'not a valid domain name' };
  if (ascii.length > 253) return { problem: 'longer than 253 characters' };
  const labels = ascii.split('.');
  if (labels.length < 2) return { problem: 'needs at least two labels, like example.com' };
  if (!labels.every((l) => label.test(l))) return { problem: 'each label must be 1 to 63 letters, digits or inner hyphens' };
  if (/^[0-9]+$/.test(labels.at(-1)!)) return { problem: 'the top-level label cannot be numeric' };
  if (publicSuffixes.has(ascii)) return { problem: 'a public suffix cannot be claimed; claim your own domain under it' };
  return { domain: ascii };
}

/** The `domain` field of the API and the CLI's --domain. */
export const domainName = z.string().max(300).transform((value, ctx) => {
  const result = canonicalDomain(value);
  if ('problem' in result) {
    ctx.addIssue({ code: 'custom', message: result.problem });
    return z.NEVER;
  }
  return result.domain;
});
