import { createTransport } from 'nodemailer';
import type { Logger } from 'pino';

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
}

/** Where the outbox dispatcher hands a message; tests inject their own. A throw means "not sent". */
export interface MailTransport {
  send(mail: OutgoingMail): Promise<void>;
  close?(): void;
}

// nodemailer's defaults wait up to 10 minutes on a silent socket; a send must finish well inside
// the dispatcher's lease, or another node would send the same message again.
const smtpTimeouts = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

export function smtpTransport(url: string): MailTransport {
  const transporter = createTransport({ url, ...smtpTimeouts });
  return {
    async send(mail) {
      await transporter.sendMail(mail);
    },
    close() {
      transporter.close();
    },
  };
}

/**
 * Without SMTP_URL mail is only logged: recipient and subject, never the body, which may hold a
 * one-time link (an invitation) that must not end up in log storage.
 */
export function logTransport(logger: Logger): MailTransport {
  return {
    async send(mail) {
      logger.info({ to: mail.to, subject: mail.subject }, 'mail not sent: SMTP_URL is not set (body withheld from the log)');
    },
  };
}
