import { randomBytes } from 'node:crypto';
import type * as oidc from 'openid-client';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { FormAgent } from '../helpers/browser.ts';
import { personAt, postToAcs, samlSetup, startSamlLogin, type Page, type SamlSetup } from '../helpers/saml-flow.ts';
import { testIdp } from '../helpers/saml-idp.ts';
import { samlResponse, type Person, type ResponseOptions } from '../helpers/saml-idp-response.ts';
import { relyingParty } from '../helpers/sign-in.ts';
import { snapshot } from '../helpers/snapshot.ts';

// Issue 4, item 3: every check beyond node-saml's defaults, each with a crafted response from the
// test IdP (xml-crypto, node:crypto) that must be refused, and nothing provisioned or stored.

let t: TestApp;
let rp: oidc.Configuration;
let sp: SamlSetup; // SP-initiated only
let idpInitiated: SamlSetup; // allowIdpInitiated

const minutes = (n: number) => n * 60_000;

beforeAll(async () => {
  t = await startAppAtPublicUrl();
  ({ rp } = await relyingParty(t));
  sp = await samlSetup(t, {}, { preset: 'okta' });
  idpInitiated = await samlSetup(t, { allowIdpInitiated: true, idpInitiatedLoginUrl: 'https://app.example.test/login' }, { preset: 'okta' });
});
afterAll(() => t.close());

/** Everything a SAML login could leave behind for `email` at `s`'s connection. */
async function state(s: SamlSetup, email: string): Promise<unknown> {
  const rows = (sql: string, params: unknown[]) => t.db.withoutOrg((em) => em.execute(sql, params));
  return {
    org: await snapshot(t, s.org.orgId),
    identities: await rows('SELECT subject, email FROM user_identities WHERE connection_id = ? ORDER BY 1', [s.connection.id]),
    users: await rows('SELECT id FROM users WHERE lower(email) = lower(?)', [email]),
    seen: await rows('SELECT assertion_id FROM saml_assertions_seen WHERE connection_id = ? ORDER BY 1', [s.connection.id]),
    answered: await rows('SELECT id FROM sso_requests WHERE connection_id = ? AND (used_at IS NOT NULL OR outcome IS NOT NULL) ORDER BY 1', [s.connection.id]),
  };
}

interface Attempt { page: Page; before: unknown; email: string; s: SamlSetup; agent: FormAgent; response: string }

/** An SP-initiated login at `s` answered by a response with `options` (given the AuthnRequest ID). */
async function spInitiated(options: (requestId: string) => ResponseOptions, s = sp, person?: Partial<Person>): Promise<Attempt> {
  const email = personAt(s);
  const { signedIn, request } = await startSamlLogin(t, rp, s, email);
  const before = await state(s, email);
  const response = samlResponse(s.idp, s.sp, { email, ...person }, { shape: 'okta', inResponseTo: request.id, ...options(request.id) });
  return { page: await postToAcs(signedIn.agent, s, response.base64), before, email, s, agent: signedIn.agent, response: response.base64 };
}

/** A response the IdP sends unasked (no InResponseTo) to `s`. */
async function unsolicited(options: ResponseOptions, s = idpInitiated): Promise<Attempt> {
  const email = personAt(s);
  const before = await state(s, email);
  const agent = new FormAgent();
  const response = samlResponse(s.idp, s.sp, { email }, { shape: 'okta', ...options });
  return { page: await postToAcs(agent, s, response.base64), before, email, s, agent, response: response.base64 };
}

async function expectRefused(attempt: Attempt, status: number, message: RegExp): Promise<void> {
  expect({ status: attempt.page.status, location: attempt.page.location }).toEqual({ status, location: null });
  expect(attempt.page.html).toContain('Single sign-on failed');
  expect(attempt.page.html).toMatch(message);
  expect(await state(attempt.s, attempt.email)).toEqual(attempt.before);
}

const notHere = /does not answer a sign-in started here/;
const notSigned = /not signed by this connection/;

test('baseline: a well-formed Okta response is accepted (the variants below fail for their own reason)', async () => {
  const { page } = await spInitiated(() => ({}));
  expect(page.status).toBe(303);
  expect(page.location).toMatch(/\/interaction\/[^/]+\/sso\/done\//);
});

describe('InResponseTo', () => {
  test('an InResponseTo that no request here has is refused', async () => {
    await expectRefused(await spInitiated(() => ({ inResponseTo: `_${randomBytes(20).toString('hex')}` })), 403, notHere);
  });

  test('an InResponseTo of a request made for another connection is refused', async () => {
    const other = await samlSetup(t, {}, {}, sp.idp); // the same IdP, another org's connection
    const { request } = await startSamlLogin(t, rp, other, personAt(other));
    await expectRefused(await spInitiated(() => ({ inResponseTo: request.id })), 403, notHere);
  });

  test('a Response InResponseTo that differs from the signed SubjectConfirmationData one is refused', async () => {
    await expectRefused(await spInitiated(() => ({ responseInResponseTo: `_${randomBytes(20).toString('hex')}` })), 403, notHere);
  });

  test('an IdP-initiated response (no InResponseTo) is refused when the connection does not allow it', async () => {
    await expectRefused(await unsolicited({}, sp), 403, /not enabled for this connection/);
  });
  test('an IdP-initiated response is refused when the connection allows it but has no login URL to send the browser to', async () => {
    const s = await samlSetup(t, { allowIdpInitiated: true, idpInitiatedLoginUrl: null });
    await expectRefused(await unsolicited({}, s), 403, /not enabled for this connection/);
  });
});

describe('replay', () => {
  test('the same response posted twice: the second is refused', async () => {
    const first = await spInitiated(() => ({}));
    expect(first.page.status).toBe(303);
    const before = await state(sp, first.email);
    const again = await postToAcs(first.agent, sp, first.response);
    await expectRefused({ ...first, page: again, before }, 403, /completed already|used already/);
  });

  test('IdP-initiated: the same response posted twice, the replay cache refuses the second', async () => {
    const first = await unsolicited({});
    expect(first.page.status).toBe(303);
    const before = await state(idpInitiated, first.email);
    const again = await postToAcs(new FormAgent(), idpInitiated, first.response);
    await expectRefused({ ...first, page: again, before }, 403, /This SAML response was used already/);
  });

  test('an assertion ID seen before is refused in a new response to a new request', async () => {
    const assertionId = `_${randomBytes(16).toString('hex')}`;
    expect((await spInitiated(() => ({ assertionId }))).page.status).toBe(303);
    await expectRefused(await spInitiated(() => ({ assertionId })), 403, /This SAML response was used already/);
  });
});

describe('Destination, Recipient, Issuer, Audience', () => {
  test('a Destination other than the ACS URL is refused', async () => {
    await expectRefused(await spInitiated(() => ({ destination: 'https://evil.example.test/sso/saml/acs' })), 403, /sent to another address/);
  });

  test('a signed Response without Destination is refused', async () => {
    await expectRefused(await spInitiated(() => ({ destination: null })), 403, /sent to another address/);
  });

  test('a SubjectConfirmationData Recipient other than the ACS URL is refused', async () => {
    await expectRefused(await spInitiated(() => ({ recipient: `${t.url}/sso/saml/${idpInitiated.connection.id}/acs` })), 403, /issued for another address/);
  });

  test('an assertion Issuer other than the IdP entity id is refused (signed with the right key)', async () => {
    await expectRefused(await spInitiated(() => ({ issuer: 'https://other-idp.example.test/saml' })), 403, /another identity provider/);
  });

  test('a Response Issuer other than the IdP entity id is refused', async () => {
    await expectRefused(await spInitiated(() => ({ responseIssuer: 'https://other-idp.example.test/saml' })), 403, /another identity provider/);
  });

  test('an Audience other than the SP entity id is refused', async () => {
    await expectRefused(await spInitiated(() => ({ audience: 'https://another-sp.example.test/metadata' })), 403, /another service provider/);
  });
});

describe('Status', () => {
  test('a non-Success top-level Status is refused with the IdP status code, even with a signed assertion', async () => {
    const attempt = await spInitiated(() => ({ status: 'urn:oasis:names:tc:SAML:2.0:status:Responder', subStatus: 'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed' }));
    await expectRefused(attempt, 403, /did not sign you in \(SAML status Responder \/ AuthnFailed\)/);
  });
});

describe('time', () => {
  test('an expired SubjectConfirmation NotOnOrAfter is refused (SP-initiated)', async () => {
    await expectRefused(await spInitiated(() => ({ notOnOrAfter: new Date(Date.now() - minutes(10)) })), 403, /expired/);
  });

  test('an expired SubjectConfirmation NotOnOrAfter is refused (IdP-initiated)', async () => {
    await expectRefused(await unsolicited({ notOnOrAfter: new Date(Date.now() - minutes(10)) }), 403, /expired/);
  });

  test('expired assertion Conditions are refused', async () => {
    await expectRefused(await spInitiated(() => ({ conditionsNotOnOrAfter: new Date(Date.now() - minutes(10)) })), 403, /expired or not valid yet/);
  });

  test('clock skew: an IdP clock 7 minutes behind (expired 2 minutes ago) is within the default 3 minutes', async () => {
    expect((await spInitiated(() => ({ clockOffsetMs: -minutes(7) }))).page.status).toBe(303);
  });

  test('clock skew: an IdP clock 9 minutes behind (expired 4 minutes ago) is refused', async () => {
    await expectRefused(await spInitiated(() => ({ clockOffsetMs: -minutes(9) })), 403, /expired/);
  });

  test('clock skew: an IdP clock 2 minutes ahead is accepted, 4 minutes ahead refused', async () => {
    expect((await spInitiated(() => ({ clockOffsetMs: minutes(2) }))).page.status).toBe(303);
    await expectRefused(await spInitiated(() => ({ clockOffsetMs: minutes(4) })), 403, /not valid yet/);
  });

  test('clock skew is configurable: GATEHOUSE_SAML_CLOCK_SKEW_SECONDS=30 refuses an assertion expired 2 minutes ago', async () => {
    const strict = await startAppAtPublicUrl({ GATEHOUSE_SAML_CLOCK_SKEW_SECONDS: '30' });
    try {
      const s = await samlSetup(strict, { allowIdpInitiated: true, idpInitiatedLoginUrl: 'https://app.example.test/login' });
      const late = samlResponse(s.idp, s.sp, { email: personAt(s) }, { clockOffsetMs: -minutes(7) });
      const page = await postToAcs(new FormAgent(), s, late.base64);
      expect(page.status).toBe(403);
      expect(page.html).toMatch(/expired/);
      const fine = samlResponse(s.idp, s.sp, { email: personAt(s) }, { clockOffsetMs: -20_000 });
      expect((await postToAcs(new FormAgent(), s, fine.base64)).status).toBe(303);
    } finally {
      await strict.close();
    }
  });
});

describe('XML and size', () => {
  test('a DOCTYPE is refused before parsing', async () => {
    await expectRefused(await spInitiated(() => ({ doctype: true })), 400, /DOCTYPE/);
  });

  test('a response over 256 KB of base64 is refused with 413', async () => {
    const groups = Array.from({ length: 1500 }, (_, i) => `group-${i}-${randomBytes(8).toString('hex')}`);
    await expectRefused(await spInitiated(() => ({}), sp, { groups }), 413, /too large/);
  });

  test('a form body over the parser limit is refused with 413', async () => {
    const email = personAt(sp);
    const before = await state(sp, email);
    const page = await postToAcs(new FormAgent(), sp, 'A'.repeat(1_100_000));
    await expectRefused({ page, before, email, s: sp, agent: new FormAgent(), response: '' }, 413, /too large/);
  });

  test('a body the form parser refuses (not the gzip it claims to be) is the client\'s error, not a 500', async () => {
    const email = personAt(sp);
    const before = await state(sp, email);
    const res = await fetch(sp.sp.acsUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' }, body: 'SAMLResponse=abc' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('could not be read');
    expect(await state(sp, email)).toEqual(before);
  });

  test('a missing SAMLResponse is refused', async () => {
    const email = personAt(sp);
    const before = await state(sp, email);
    const page = await new FormAgent().request(sp.sp.acsUrl, { form: { RelayState: 'x' } });
    await expectRefused({ page, before, email, s: sp, agent: new FormAgent(), response: '' }, 400, /no SAML response/);
  });
});

/** The one (signed) assertion of a response, as sent. */
function assertionOf(xml: string): string {
  return /<saml:Assertion [\s\S]*<\/saml:Assertion>/.exec(xml)![0];
}

/** A copy of a signed assertion, for someone else, with a new ID and no signature: what an attacker can write. */
function forged(signed: string, victim: string): string {
  return signed.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '').replace(/ID="[^"]+"/, 'ID="_evil"')
    .replace(/(<saml:NameID[^>]*>)[^<]*/, `$1${victim}`).replace(/(Name="email"[^>]*><saml:AttributeValue[^>]*>)[^<]*/, `$1${victim}`);
}

describe('signatures', () => {
  test('an unsigned response (neither Response nor Assertion signed) is refused', async () => {
    await expectRefused(await spInitiated(() => ({ sign: { response: false, assertion: false } })), 403, notSigned);
  });

  test('a response signed by a key that is not the IdP\'s is refused', async () => {
    await expectRefused(await spInitiated(() => ({ signingKey: testIdp('impostor') })), 403, notSigned);
  });

  test('an encrypted assertion without any signature is refused (anyone can encrypt to the SP certificate)', async () => {
    await expectRefused(await spInitiated(() => ({ sign: { response: false, assertion: false }, encrypt: 'aes256-cbc' })), 403, notSigned);
  });

  test('certificate rotation: a response signed with either of the connection\'s IdP certificates is accepted', async () => {
    const idp = testIdp();
    const previous = testIdp();
    const s = await samlSetup(t, { certificates: [previous.certificatePem, idp.certificatePem] }, {}, idp);
    expect((await spInitiated(() => ({}), s)).page.status).toBe(303);
    expect((await spInitiated(() => ({ signingKey: previous }), s)).page.status).toBe(303);
  });

  test('a signed response whose assertion was altered afterwards is refused', async () => {
    await expectRefused(await spInitiated(() => ({ shape: 'entra', mutate: (xml) => xml.replace(/(Name="http:\/\/schemas.xmlsoap.org\/ws\/2005\/05\/identity\/claims\/emailaddress"[^>]*><saml:AttributeValue[^>]*>)[^<]*/, '$1ceo@corp.example.test') })), 403, notSigned);
  });
});

describe('signature wrapping', () => {
  test('an unsigned evil assertion injected beside the signed one is refused', async () => {
    const victim = personAt(sp, 'victim');
    const attempt = await spInitiated(() => ({ shape: 'entra', mutate: (xml) => { const a = assertionOf(xml); return xml.replace(a, forged(a, victim) + a); } }));
    await expectRefused(attempt, 403, /exactly one assertion/);
  });

  test('an unsigned evil assertion wrapped around the signed one (in its Advice) is refused', async () => {
    const victim = personAt(sp, 'victim');
    const attempt = await spInitiated(() => ({ shape: 'entra', mutate: (xml) => {
      const a = assertionOf(xml);
      return xml.replace(a, forged(a, victim).replace(/<\/saml:Assertion>$/, `<saml:Advice>${a}</saml:Advice></saml:Assertion>`));
    } }));
    await expectRefused(attempt, 403, /exactly one assertion/);
  });

  test('a signed Response whose signed assertion was moved into Extensions, an evil one with another ID in its place, is refused', async () => {
    const victim = personAt(sp, 'victim');
    const attempt = await spInitiated(() => ({ shape: 'okta', mutate: (xml) => {
      const a = assertionOf(xml);
      return xml.replace(a, forged(a, victim)).replace(/(<\/saml:Issuer>)/, `$1<samlp:Extensions>${a}</samlp:Extensions>`);
    } }));
    await expectRefused(attempt, 403, /exactly one assertion/);
  });

  test('the whole signed Response moved inside an evil unsigned one is refused', async () => {
    const victim = personAt(sp, 'victim');
    const attempt = await spInitiated(() => ({ shape: 'okta', mutate: (xml) => {
      const original = xml.replace(/^<\?xml[^>]*>/, '');
      const evil = original.replace(/<ds:Signature[\s\S]*?<\/ds:Signature>/g, '').replace(/ID="_/g, 'ID="_x');
      return evil.replace(/<saml:Assertion [\s\S]*<\/saml:Assertion>/, (a) => `${forged(a, victim)}<samlp:Extensions>${original}</samlp:Extensions>`);
    } }));
    await expectRefused(attempt, 400, /not a single SAML Response/);
  });

  test('a comment injected into a signed NameID (the signature still verifies) is refused', async () => {
    const attacker = `${personAt(sp, 'victim')}.attacker.example.test`;
    const victim = attacker.replace('.attacker.example.test', '');
    const attempt = await spInitiated(() => ({ nameId: attacker, mutate: (xml) => xml.replace(`>${attacker}</saml:NameID>`, `>${victim}<!---->.attacker.example.test</saml:NameID>`) }), sp, { email: attacker });
    await expectRefused(attempt, 400, /comment inside a name or attribute value/);
  });
});

describe('connection settings', () => {
  test('a plain assertion is refused by a connection that requires encrypted assertions', async () => {
    const s = await samlSetup(t, { requireEncryptedAssertions: true });
    await expectRefused(await spInitiated(() => ({}), s), 403, /encrypted assertions only/);
  });

  test('an assertion encrypted to another SP\'s key is refused', async () => {
    const other = await samlSetup(t);
    const email = personAt(sp);
    const { signedIn, request } = await startSamlLogin(t, rp, sp, email);
    const before = await state(sp, email);
    const response = samlResponse(sp.idp, { ...sp.sp, certificatePem: other.sp.certificatePem }, { email }, { inResponseTo: request.id, encrypt: 'aes256-cbc' });
    const page = await postToAcs(signedIn.agent, sp, response.base64);
    await expectRefused({ page, before, email, s: sp, agent: signedIn.agent, response: response.base64 }, 403, /could not be decrypted/);
  });

  test('a response without an email (attribute or email NameID) is refused with a clear message', async () => {
    await expectRefused(await spInitiated(() => ({ nameId: 'opaque-7d1f', attributes: { firstName: ['Pat'] } })), 403, /did not send your email address/);
  });

  test('an unknown connection id is a 404 page', async () => {
    const page = await postToAcs(new FormAgent(), { ...sp, sp: { ...sp.sp, acsUrl: `${t.url}/sso/saml/0193c0de-0000-7000-8000-000000000000/acs` } }, 'PHg+');
    expect(page.status).toBe(404);
    expect(page.html).toContain('does not exist or is not active');
  });

  test('an inactive connection is a 404 page and nothing is stored', async () => {
    const s = await samlSetup(t, { allowIdpInitiated: true, idpInitiatedLoginUrl: 'https://app.example.test/login' });
    await t.db.inOrg(s.org.orgId, (em) => em.execute('UPDATE connections SET active = false WHERE id = ?', [s.connection.id]));
    await expectRefused(await unsolicited({}, s), 404, /does not exist or is not active/);
  });
});
