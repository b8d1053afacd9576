/**
 * The development verifier: a fixture registry (JSON) standing in for the population registry,
 * the carriers, banks, social security, housing fund, traffic police and business registry.
 *
 *   {
 *     "unlisted": "match" | "unknown",   // what to answer for a person / company not listed
 *     "persons":   [{ "name", "idNumber", "mobile"?, "socialSecurityCard"?, "bankCard"?,
 *                     "housingFund"?, "drivingLicenceFile"? }],
 *     "companies": [{ "creditCode", "name", "legalRepIdNumber" }]
 *   }
 *
 * A listed person or company is compared exactly: a value differing from the record, or a
 * factor the record lacks, is `mismatch` / `unknown`. An unlisted one gets `unlisted`: the
 * built-in registry answers `match` so developers (and the journey) can register made-up people;
 * a fixture file with `"unlisted": "unknown"` makes the registry strict, as a real one is.
 * Refused in production (idp/verify/index.ts).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AppError } from '../kernel/errors.ts';
import { normaliseIdNumber } from '../kernel/ids.ts';
import { DEMO_CITIZEN } from '../kernel/demo.ts';
import type { FactorKind, Verifier, VerifyResult } from './verify/verifier.ts';

const Person = z.object({
  name: z.string().min(1),
  idNumber: z.string().min(15),
  mobile: z.string().optional(),
  socialSecurityCard: z.string().optional(),
  bankCard: z.string().optional(),
  housingFund: z.string().optional(),
  drivingLicenceFile: z.string().optional(),
});
const Company = z.object({ creditCode: z.string().length(18), name: z.string().min(1), legalRepIdNumber: z.string().min(15) });
export const FixtureRegistry = z.object({
  unlisted: z.enum(['match', 'unknown']).default('unknown'),
  persons: z.array(Person).default([]),
  companies: z.array(Company).default([]),
});
export type FixtureRegistry = z.input<typeof FixtureRegistry>;

/** The demo company (its legal representative is the demo citizen). */
export const DEMO_COMPANY = { creditCode: '91330106MA2B00001Y', name: '杭州一网示范科技有限公司', legalRepIdNumber: DEMO_CITIZEN.idNumber } as const;

/** The built-in registry: the demo people with their real-looking records; anyone else matches. */
export const BUILTIN_REGISTRY: FixtureRegistry = {
  unlisted: 'match',
  persons: [{
    name: DEMO_CITIZEN.name, idNumber: DEMO_CITIZEN.idNumber, mobile: DEMO_CITIZEN.mobile,
    socialSecurityCard: DEMO_CITIZEN.socialSecurityCard, bankCard: '6222020200112233445',
  }],
  companies: [DEMO_COMPANY],
};

export function loadFixtureFile(path: string): FixtureRegistry {
  try {
    return FixtureRegistry.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (e) {
    throw new AppError('CONFIG_INVALID', `IDP_VERIFY_FIXTURES: cannot read a registry from ${path}: ${(e as Error).message}`);
  }
}

const norm = (v: string) => v.replace(/[\s-]/g, '').toUpperCase();

export function fixtureVerifier(registry: FixtureRegistry): Verifier {
  const r = FixtureRegistry.parse(registry);
  const person = (idNumber: string) => r.persons.find((p) => normaliseIdNumber(p.idNumber) === normaliseIdNumber(idNumber));
  const unlisted: VerifyResult = r.unlisted;
  return {
    name: 'fixture',
    async person(p) {
      const rec = person(p.idNumber);
      if (!rec) return unlisted;
      return rec.name === p.name ? 'match' : 'mismatch';
    },
    async factor(p, kind: FactorKind, value) {
      const rec = person(p.idNumber);
      if (!rec) return unlisted;
      if (rec.name !== p.name) return 'mismatch';
      const onRecord = rec[kind];
      if (onRecord === undefined) return 'unknown';
      return norm(onRecord) === norm(value) ? 'match' : 'mismatch';
    },
    async company(c) {
      const rec = r.companies.find((x) => x.creditCode.toUpperCase() === c.creditCode.toUpperCase());
      if (!rec) return unlisted;
      return rec.name === c.name && normaliseIdNumber(rec.legalRepIdNumber) === normaliseIdNumber(c.legalRepIdNumber) ? 'match' : 'mismatch';
    },
  };
}
