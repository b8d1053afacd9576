/**
 * The item catalogue's data as the rest of the service sees it (GB/T 39046 core elements,
 * R-IT-1/2/4/5), and the validation of what may be written (R-IT-6: items change only through
 * `upsertItem`). Field widths are generous: sources disagree (basic code an..10 vs 12,
 * implementation code an..24 vs 36), see shared/docs/standards.md.
 */
import { z } from 'zod';
import { AppError } from '../../kernel/errors.ts';
import { isValidCreditCode } from '../../kernel/ids.ts';
import { isItemTypeCode } from './types.ts';
import { isServiceObject, isTheme } from './codes.ts';
import { elementsInput, materialExtras, type ItemElements } from './elements.ts';

export interface Material {
  code: string;
  name: string;
  required: boolean;
  paperCopies: number;
  replaceableByLicenceType: string | null;
  /** R-IT-4 attributes (absent in rows written before they existed: read with defaults). */
  type?: string;
  sampleUrl?: string;
  formUrl?: string;
  sourceChannel?: string;
  instructions?: string;
  acceptanceStandard?: string;
  electronicRequired?: boolean;
}

export interface LicenceType {
  code: string;
  name: string;
}

export interface Agency {
  code: string;
  name: string;
  regionCode: string;
  level: number;
}

export interface Item {
  id: string;
  name: string;
  basicCode: string;
  implementationCode: string;
  typeCode: string;
  level: number;
  caseType: string;
  legalTimeLimit: number;
  promisedTimeLimit: number;
  onlineDepth: number;
  visits: number;
  agencyCode: string;
  materials: Material[];
  licenceType: LicenceType | null;
  /** Service objects (服务对象, codes.ts SERVICE_OBJECTS). */
  objects: string[];
  /** Life-cycle themes (codes.ts THEMES). */
  themes: string[];
  /** Whether the item can be applied for online (是否网办). */
  onlineHandling: boolean;
  /** The rest of the GB/T 39046 element set (R-IT-2). */
  elements: ItemElements;
  /** Approved version now in force (0: written outside the change flow, e.g. the demo seed). */
  version: number;
  updatedAt: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(s: string): boolean {
  return UUID.test(s);
}

const text = (max: number) => z.string().trim().min(1).max(max);
const creditCode = z.string().refine(isValidCreditCode, 'not a valid unified social credit code (GB 32100)');
const code = z.string().regex(/^[0-9A-Za-z]{1,64}$/, 'letters and digits, at most 64');

export const agencyInput = z.object({
  code: creditCode,
  name: text(200),
  // 行政区划代码: 6 digits, or 12 at township/village level.
  regionCode: z.string().regex(/^\d{6}(\d{6})?$/, '6 or 12 digits'),
  // 行使层级 of an agency: 1 national … 6 village.
  level: z.number().int().min(1).max(6),
});

export type AgencyInput = z.input<typeof agencyInput>;

const materialInput = z.object({
  code: text(32),
  name: text(500),
  required: z.boolean(),
  paperCopies: z.number().int().min(0).max(99),
  replaceableByLicenceType: code.nullish(),
  ...materialExtras,
});

export const itemInput = z.object({
  id: z.string().regex(UUID, 'a UUID'),
  name: text(200),
  basicCode: code,
  implementationCode: code,
  typeCode: z.string().refine(isItemTypeCode, 'a GB/T 39046 item type code (01-10, 20)'),
  level: z.number().int().min(1).max(7),
  caseType: z.enum(['1', '2', '9']),
  legalTimeLimit: z.number().int().min(0).max(3650),
  promisedTimeLimit: z.number().int().min(0).max(3650),
  onlineDepth: z.number().int().min(1).max(5),
  visits: z.number().int().min(0).max(99),
  agencyCode: creditCode,
  licenceType: z.object({ code, name: text(200) }).nullable(),
  materials: z.array(materialInput).max(200)
    .refine((ms) => new Set(ms.map((m) => m.code)).size === ms.length, 'material codes must be distinct'),
  objects: z.array(z.string().refine(isServiceObject, 'a service object code (1-6)')).max(6).optional(),
  themes: z.array(z.string().refine(isTheme, 'a life-cycle theme code (P01…, C01…)')).max(10).optional(),
  onlineHandling: z.boolean().optional(),
  elements: elementsInput.optional(),
}).refine((i) => i.promisedTimeLimit <= i.legalTimeLimit, { path: ['promisedTimeLimit'], message: 'must not exceed the legal time limit' })
  // R-IT-9: five stars is fully online (no visit); four stars online with the originals checked once, at pickup (at most one visit).
  .refine((i) => i.onlineDepth < 5 || i.visits === 0, { path: ['onlineDepth'], message: '5 stars (fully online) means no visit' })
  .refine((i) => i.onlineDepth < 4 || i.visits <= 1, { path: ['onlineDepth'], message: '4 stars means at most one visit (originals checked at pickup)' });

export type ItemInput = z.input<typeof itemInput>;

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const details: Record<string, string> = {};
  for (const issue of r.error.issues) details[issue.path.join('.') || what] = issue.message;
  throw new AppError('BAD_INPUT', `${what}数据不合法 / invalid ${what}`, details);
}

/** Validated, normalised item: materials always carry every key so stored JSON compares equal. */
/**
 * Classification left out of an input (null here) keeps what is stored: writers that predate it
 * (the demo seed of other services, older import files) do not erase it.
 */
export type ValidItem = Omit<Item, 'updatedAt' | 'objects' | 'themes' | 'onlineHandling' | 'elements' | 'version'>
  & { objects: string[] | null; themes: string[] | null; onlineHandling: boolean | null; elements: ItemElements | null };

export function validItem(input: ItemInput): ValidItem {
  const i = parse(itemInput, input, 'item');
  return {
    ...i,
    // Sorted and distinct so unchanged data compares equal.
    objects: i.objects ? [...new Set(i.objects)].sort() : null,
    themes: i.themes ? [...new Set(i.themes)].sort() : null,
    onlineHandling: i.onlineHandling ?? null,
    elements: i.elements ?? null,
    licenceType: i.licenceType ? { code: i.licenceType.code, name: i.licenceType.name } : null,
    materials: i.materials.map((m) => ({
      code: m.code, name: m.name, required: m.required, paperCopies: m.paperCopies,
      replaceableByLicenceType: m.replaceableByLicenceType ?? null,
      type: m.type, sampleUrl: m.sampleUrl, formUrl: m.formUrl, sourceChannel: m.sourceChannel,
      instructions: m.instructions, acceptanceStandard: m.acceptanceStandard, electronicRequired: m.electronicRequired,
    })),
  };
}

export function validAgency(input: AgencyInput): Agency {
  return parse(agencyInput, input, 'agency');
}
