import { profileFromClaims } from '../../src/federation/oidc-claims.ts';
import { expectedIssuer, tenantOf } from '../../src/federation/oidc-discovery.ts';
import { SsoError } from '../../src/federation/sso-edge.ts';

// Entra's multi-tenant metadata (common, organizations) names an issuer no token carries.
const template = 'https://login.microsoftonline.com/{tenantid}/v2.0';
const tid = '9188040d-6c67-4c5b-b112-36a304b66dad';
const other = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const tenantIssuer = `https://login.microsoftonline.com/${tid}/v2.0`;

describe('Entra per-tenant issuer', () => {
  test('the {tenantid} template with the tid the configured issuer names gives that issuer', () => {
    expect(tenantOf(template, tenantIssuer)).toBe(tid);
    expect(expectedIssuer(template, tenantIssuer, tid)).toBe(tenantIssuer);
  });

  test('a token of another tenant is refused for a tenant-specific connection', () => {
    expect(expectedIssuer(template, tenantIssuer, other)).toBeNull();
  });

  test('a connection configured with common or organizations (any tenant) is refused', () => {
    for (const configured of ['https://login.microsoftonline.com/common/v2.0', 'https://login.microsoftonline.com/organizations/v2.0']) {
      const tenant = tenantOf(template, configured);
      expect(tenant).not.toBeNull();
      expect(expectedIssuer(template, configured, tenant)).toBeNull();
      expect(expectedIssuer(template, configured, tid)).toBeNull();
    }
  });

  test('a tid that is not a tenant GUID is never substituted (no path tricks)', () => {
    expect(expectedIssuer(template, 'https://login.microsoftonline.com/x/../evil/v2.0', 'x/../evil')).toBeNull();
    expect(expectedIssuer(template, tenantIssuer, null)).toBeNull();
  });

  test('without the template the discovered issuer must equal the configured one', () => {
    expect(expectedIssuer('https://idp.example.com', 'https://idp.example.com/', null)).toBe('https://idp.example.com');
    expect(expectedIssuer('https://evil.example.com', 'https://idp.example.com', null)).toBeNull();
    expect(tenantOf('https://idp.example.com', 'https://idp.example.com')).toBeNull();
  });
});

describe('OIDC claim presets', () => {
  const base = { sub: 'abc', given_name: 'Ada', family_name: 'Lovelace' };

  test('generic: email, names and groups; verified only with email_verified true', () => {
    const p = profileFromClaims({ ...base, email: 'ada@example.com', email_verified: true, groups: ['eng', 7, 'ops'] }, 'generic');
    expect(p).toEqual({
      subject: 'abc', email: 'ada@example.com', emailVerified: true, givenName: 'Ada', familyName: 'Lovelace', groups: ['eng', 'ops'],
      // what arrived, for a test sign-in to show (the protocol claims left out)
      attributes: { sub: ['abc'], given_name: ['Ada'], family_name: ['Lovelace'], email: ['ada@example.com'], email_verified: ['true'], groups: ['eng', '7', 'ops'] },
    });
    expect(profileFromClaims({ ...base, email: 'ada@example.com' }, 'okta').emailVerified).toBe(false);
  });

  test('entra: preferred_username, then upn, stand in for a missing email, never as verified', () => {
    const p = profileFromClaims({ ...base, preferred_username: 'ada@contoso.com', upn: 'x@contoso.com', email_verified: true, groups: 'admins' }, 'entra');
    expect(p).toMatchObject({ email: 'ada@contoso.com', emailVerified: false, groups: ['admins'] });
    expect(profileFromClaims({ ...base, upn: 'ada@contoso.com' }, 'entra').email).toBe('ada@contoso.com');
    expect(() => profileFromClaims({ ...base, preferred_username: 'ada@contoso.com' }, 'generic')).toThrow(SsoError);
  });

  test('google: no groups claim is read; email_verified is honoured', () => {
    const p = profileFromClaims({ ...base, email: 'ada@example.com', email_verified: false, hd: 'example.com', groups: ['x'] }, 'google');
    expect(p).toMatchObject({ emailVerified: false, groups: [] });
  });

  test('a connection mapping overrides the preset claim names', () => {
    const p = profileFromClaims({ sub: 's', mail: 'ada@example.com', roles: ['r'] }, 'generic', { email: 'mail', groups: 'roles' });
    expect(p).toMatchObject({ email: 'ada@example.com', emailVerified: false, groups: ['r'] });
  });

  test('no email, an invalid email or no subject is refused', () => {
    expect(() => profileFromClaims(base, 'generic')).toThrow(expect.objectContaining({ code: 'sso.email_missing', status: 403 }));
    expect(() => profileFromClaims({ ...base, email: 'not an email' }, 'generic')).toThrow(expect.objectContaining({ code: 'sso.email_missing' }));
    expect(() => profileFromClaims({ email: 'ada@example.com' }, 'generic')).toThrow(expect.objectContaining({ code: 'sso.subject_missing' }));
  });
});
