import type { Mail } from '../mail/mailer.ts';

export interface InvitationMailInput {
  to: string;
  orgName: string;
  role: string;
  acceptUrl: string;
  expiresAt: Date;
}

/** The invitation mail. Its body holds the one-time link, so it must never be logged. */
export function invitationMail(input: InvitationMailInput): Mail {
  return {
    to: input.to,
    subject: `You are invited to join ${input.orgName}`,
    text: [
      `You have been invited to join ${input.orgName} as ${input.role}.`,
      '',
      `Accept the invitation: ${input.acceptUrl}`,
      '',
      `The link works once and expires on ${input.expiresAt.toUTCString()}.`,
      'If you did not expect this invitation, you can ignore this message.',
    ].join('\n'),
  };
}
