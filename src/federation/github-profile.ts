import * as oidc from 'openid-client';
import { z } from 'zod';
import { withCause } from './oidc-discovery.ts';
import { SsoError } from './sso-edge.ts';
import type { SsoProfile } from './sso-profile.ts';

// GitHub REST API: GET /user and GET /user/emails (scopes read:user, user:email).
const user = z.object({ id: z.number().int().positive(), login: z.string(), name: z.string().nullable().optional() });
const emails = z.array(z.object({ email: z.string(), primary: z.boolean(), verified: z.boolean() }));
const email = z.email().max(320);

async function getJson(config: oidc.Configuration, accessToken: string, url: URL): Promise<unknown> {
  const headers = new Headers({ accept: 'application/vnd.github+json', 'user-agent': 'Gatehouse', 'x-github-api-version': '2022-11-28' });
  let res: Response;
  try {
    res = await oidc.fetchProtectedResource(config, accessToken, url, 'GET', undefined, headers);
  } catch (err) {
    throw withCause(new SsoError(502, 'sso.github_unreachable', 'GitHub could not be reached. Try again later.'), err);
  }
  if (!res.ok) throw new SsoError(403, 'sso.github_refused', `GitHub did not share your profile (${res.status}). Start again from the application.`);
  return res.json().catch(() => null);
}

/**
 * The person behind a GitHub access token: subject = GitHub's numeric user id (logins can be
 * renamed and reused), email = the primary address, which must be verified on GitHub.
 */
export async function githubProfile(config: oidc.Configuration, apiUrl: string, accessToken: string): Promise<SsoProfile> {
  const base = apiUrl.replace(/\/+$/, '');
  const who = user.safeParse(await getJson(config, accessToken, new URL(`${base}/user`)));
  const addresses = emails.safeParse(await getJson(config, accessToken, new URL(`${base}/user/emails`)));
  if (!who.success || !addresses.success) throw new SsoError(403, 'sso.github_profile_invalid', 'GitHub sent a profile this service does not understand.');
  const primary = addresses.data.find((e) => e.primary);
  const address = primary ? email.safeParse(primary.email) : null;
  if (!primary || !address?.success) throw new SsoError(403, 'sso.email_missing', 'Your GitHub account has no primary email address.');
  if (!primary.verified) throw new SsoError(403, 'sso.email_unverified', 'Verify your primary email address on GitHub first, then try again.');
  return {
    subject: String(who.data.id),
    email: address.data,
    emailVerified: primary.verified,
    givenName: who.data.name?.trim() || who.data.login,
    familyName: null,
    groups: [],
  };
}
