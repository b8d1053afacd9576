/**
 * Demo administrators (SEED_DEMO), so the admin API can be tried at once: `yw-admin` (role
 * `admin`) and `yw-head` (role `department-head`, the second person of R-ID-9), at the demo
 * market supervision bureau. Idempotent (upsert by id; an existing password is kept).
 */
import type { AccountStore } from '../accounts/store.ts';
import type { StaffRole } from '../../kernel/internal-auth.ts';

export const DEMO_ADMINS = [
  { id: 'a0d1e2f3-0001-4000-8000-0000000000a1', username: 'yw-admin', name: '王管理', roles: ['admin'] },
  { id: 'a0d1e2f3-0002-4000-8000-0000000000a2', username: 'yw-head', name: '赵处长', roles: ['department-head'] },
] as const;
export const DEMO_ADMIN_PASSWORD = 'Admin@2026demo';
const AGENCY = '11330100MB0000002W';

export async function seedDemoAdmins(accounts: AccountStore): Promise<void> {
  for (const a of DEMO_ADMINS) {
    await accounts.upsert({
      id: a.id, kind: 'staff', name: a.name, idNumber: null, mobile: null, username: a.username, agencyCode: AGENCY,
      // Administrative roles live beside the case-handling roles in the same column.
      roles: [...a.roles] as unknown as StaffRole[], password: DEMO_ADMIN_PASSWORD,
    });
  }
}
