import type { EntityManager } from '@mikro-orm/sql';
import { OutboxRepository } from './outbox.repository.ts';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/**
 * Queues mail in the caller's transaction (the outbox): a message exists exactly when the change
 * that sends it commits. The dispatcher delivers it later.
 */
export class Mailer {
  async enqueue(em: EntityManager, mail: Mail): Promise<void> {
    // Header injection: a subject is one line, whatever an org name or role key contains.
    await new OutboxRepository(em).enqueue({ ...mail, subject: mail.subject.replace(/[\r\n]+/g, ' ') });
  }
}
