import { Migration } from '@mikro-orm/migrations';

// STUB (B2 (webhooks): the store of received Stripe events). Replace this file.
export class StripeEvents extends Migration {
  override name = '0015-stripe-events';

  override up(): void {
    this.addSql('SELECT 1');
  }
}
