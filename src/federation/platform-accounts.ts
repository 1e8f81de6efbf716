import type { InteractionDeps } from '../oidc/interactions/flow.ts';
import { InteractionError } from '../oidc/interactions/flow.ts';
import { normalizeEmail, UsersRepository } from '../modules/users/users.repository.ts';
import { IdentitiesRepository } from './identities.repository.ts';
import type { SsoProfile } from './sso-profile.ts';

/**
 * The account of a platform-wide Google or GitHub sign-in: the one linked to that identity
 * before; else the person's own account for the address, only when the provider verified it;
 * else a new account when sign-up is on. Org membership still comes from invitations, SSO or SCIM.
 */
export async function platformSignInUser(deps: InteractionDeps, provider: string, profile: SsoProfile): Promise<string> {
  return deps.db.withoutOrg(async (em) => {
    const identities = new IdentitiesRepository(em);
    const users = new UsersRepository(em);
    const email = normalizeEmail(profile.email);
    const known = await identities.touch(provider, profile.subject, email);
    if (known) return known;
    if (!profile.emailVerified) throw new InteractionError(403, `Your ${providerName(provider)} email address is not verified, so it cannot sign you in.`);
    let user = await users.findByEmail(email);
    if (!user) {
      if (!deps.config.signUp) throw new InteractionError(403, 'There is no account for this email address. Ask your organization for an invitation.');
      const name = [profile.givenName, profile.familyName].filter(Boolean).join(' ') || null;
      user = await users.create({ email, name, passwordHash: null });
    }
    await identities.link({ userId: user.id, provider, connectionId: null, subject: profile.subject, email });
    return user.id;
  });
}

function providerName(provider: string): string {
  return provider === 'github' ? 'GitHub' : provider === 'google' ? 'Google' : provider;
}

