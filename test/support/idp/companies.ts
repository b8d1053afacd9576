/**
 * Test fixture: a company row as idp/company registers it (R-ID-4), for delegation tests that do
 * not exercise the business-registry comparison itself.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../../kernel/db.ts';
import { creditCodeCheckChar } from '../../../kernel/ids.ts';

/** A valid unified social credit code from its first 17 characters. */
export const creditCode = (first17: string): string => `${first17}${creditCodeCheckChar(first17)}`;

export async function insertCompany(q: Queryable, code: string, legalRep: string, name = '杭州示例科技有限公司'): Promise<void> {
  await q.query(
    `insert into idp.companies (id, credit_code, name, legal_rep_account_id, route, assurance_level, agreement_version, agreement_accepted_at, created_at)
     values ($1, $2, $3, $4, 'registry', 3, '2026-01', now(), now())`, [randomUUID(), code, name, legalRep]);
}
