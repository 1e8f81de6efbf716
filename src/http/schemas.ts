import { z } from 'zod';

// Shapes shared by many routes.
export const orgParams = z.object({ orgId: z.uuid() });
export const name = z.string().trim().min(1).max(200);
export const email = z.email().max(320);
export const slug = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])$/, 'lowercase letters, digits and dashes, 2 to 48 long');
export const roleKey = z.string().regex(/^[a-z][a-z0-9_-]{1,39}$/, 'a role key: lowercase, 2 to 40 characters');
export const timestamp = z.date().transform((d) => d.toISOString()).or(z.string());
export const noContent = { 204: { description: 'Done', schema: null } };
