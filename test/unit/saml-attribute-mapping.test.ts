import type { Profile } from '@node-saml/node-saml';
import { mapProfile } from '../../saml/attribute-mapping.ts';

// SAML attributes → SsoProfile, per preset, as node-saml hands them over (profile.attributes:
// one value as a string, several as an array).

function profile(nameID: string, attributes: Record<string, string | string[]>): Profile {
  return { issuer: 'https://idp.example.test', nameID, nameIDFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified', attributes };
}

const CLAIMS = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims';

test('okta: email, firstName, lastName and groups as Okta attribute statements name them', () => {
  const mapped = mapProfile(profile('Pat@Corp.example', { email: 'Pat@Corp.example', firstName: 'Pat', lastName: 'Person', groups: ['Everyone', 'Eng'] }), 'okta', {});
  expect(mapped).toEqual({
    subject: 'Pat@Corp.example', email: 'pat@corp.example', emailVerified: true, givenName: 'Pat', familyName: 'Person', groups: ['Everyone', 'Eng'],
    // every attribute as it arrived, for a test sign-in to show
    attributes: { email: ['Pat@Corp.example'], firstName: ['Pat'], lastName: ['Person'], groups: ['Everyone', 'Eng'] },
  });
});

test('entra: claim URIs, a single group as a string, the NameID (persistent) stays the subject', () => {
  const mapped = mapProfile(profile('AAAAAAAAAAAAAAAAAAAAAJ8fake', {
    [`${CLAIMS}/emailaddress`]: 'kim@corp.example', [`${CLAIMS}/givenname`]: 'Kim', [`${CLAIMS}/surname`]: 'Lee',
    'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups': 'a1b2c3d4-0000-4000-8000-00000000000a',
    'http://schemas.microsoft.com/identity/claims/objectidentifier': '5b2f1c9e-2222-4222-8222-222222222222',
  }), 'entra', {});
  expect(mapped).toMatchObject({ subject: 'AAAAAAAAAAAAAAAAAAAAAJ8fake', email: 'kim@corp.example', givenName: 'Kim', familyName: 'Lee', groups: ['a1b2c3d4-0000-4000-8000-00000000000a'] });
});

test('entra: without emailaddress, the name claim (UPN) is the email', () => {
  expect(mapProfile(profile('x', { [`${CLAIMS}/name`]: 'kim@corp.example' }), 'entra', {}).email).toBe('kim@corp.example');
});

test('google: the NameID is the primary email when no email attribute is mapped', () => {
  expect(mapProfile(profile('sam@corp.example', { firstName: 'Sam' }), 'google', {})).toMatchObject({ email: 'sam@corp.example', givenName: 'Sam', familyName: null, groups: [] });
});

test('generic: mail, sn and memberOf', () => {
  expect(mapProfile(profile('uid=7', { mail: 'lou@corp.example', givenName: 'Lou', sn: 'Ng', memberOf: ['cn=a', 'cn=b'] }), 'generic', {}))
    .toMatchObject({ subject: 'uid=7', email: 'lou@corp.example', givenName: 'Lou', familyName: 'Ng', groups: ['cn=a', 'cn=b'] });
});

test('a connection attributeMapping replaces the preset for that field', () => {
  const mapped = mapProfile(profile('x', { email: 'wrong@corp.example', workEmail: 'right@corp.example', team: ['red'] }), 'okta', { email: 'workEmail', groups: 'team' });
  expect(mapped).toMatchObject({ email: 'right@corp.example', groups: ['red'] });
});

test('no email attribute and a NameID that is not an email: refused with a clear message', () => {
  expect(() => mapProfile(profile('opaque-7d1f', { firstName: 'Pat' }), 'okta', {})).toThrow(/did not send your email address/);
});

test('a malformed email attribute is refused', () => {
  expect(() => mapProfile(profile('opaque', { email: 'not an email' }), 'okta', {})).toThrow(/did not send your email address/);
});

test('no NameID: refused', () => {
  expect(() => mapProfile(profile('', { email: 'pat@corp.example' }), 'okta', {})).toThrow(/no NameID/);
});
