import { v7 as uuidv7 } from 'uuid';
import type { EntityManager } from '@mikro-orm/sql';
import { OutboxMessage } from './outbox-message.entity.ts';

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
    em.create(OutboxMessage, { id: uuidv7(), recipient: mail.to, subject: mail.subject, body: mail.text, status: 'pending' });
    await em.flush();
  }
}
