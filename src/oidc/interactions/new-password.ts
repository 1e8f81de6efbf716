import { minPasswordLength } from '../../modules/invitations/invitation-accept.service.ts';

/** A new password as typed twice on a hosted form; the error says what to fix. */
export function checkNewPassword(body: Record<string, unknown>): { password: string } | { error: string } {
  const password = typeof body.password === 'string' ? body.password : '';
  if (password.length < minPasswordLength) return { error: `Choose a password of at least ${minPasswordLength} characters.` };
  if (password.length > 1024) return { error: 'That password is too long (1024 characters at most).' };
  if (body.confirm !== password) return { error: 'The two passwords are not the same.' };
  return { password };
}
