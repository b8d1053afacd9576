/**
 * The GB/T 39046 element set of an implementation beyond the core columns (R-IT-2), and the
 * material attributes of R-IT-4, as validated input. Everything has a default so older writers
 * (the demo seed, earlier import files) stay valid; stored values are normalised (every key
 * present, defaults filled) so unchanged data compares equal and emits no event.
 */
import { z } from 'zod';

const text = (max: number) => z.string().trim().max(max);
const url = z.string().trim().max(500).refine((u) => u === '' || /^(https?:\/\/|\/)/.test(u), 'an http(s) URL or a path');

/** 办理形式 (channel): 1 window · 2 PC · 3 mobile · 4 post · 9 other. */
export const CHANNELS = ['1', '2', '3', '4', '9'] as const;
/** 通办范围 (cross-region scope). */
export const CROSS_REGION = ['NONE', 'CITY', 'PROVINCE', 'INTER_PROVINCE', 'NATIONAL'] as const;
export const TIME_LIMIT_UNITS = ['WORKING_DAY', 'NATURAL_DAY'] as const;
/** 材料类型 (material type). */
export const MATERIAL_TYPES = ['ORIGINAL', 'COPY', 'ORIGINAL_AND_COPY', 'ELECTRONIC'] as const;
/** 来源渠道 (source channel) of a material. */
export const MATERIAL_SOURCES = ['APPLICANT', 'GOVERNMENT', 'INTERMEDIARY', 'OTHER'] as const;
/** 结果类型 (result type). */
export const RESULT_TYPES = ['CERTIFICATE', 'APPROVAL_DOCUMENT', 'FILING', 'PAYMENT', 'OTHER'] as const;

export const elementsInput = z.object({
  legalBasis: text(4000).default(''),
  timeLimitUnit: z.enum(TIME_LIMIT_UNITS).default('WORKING_DAY'),
  acceptanceConditions: text(4000).default(''),
  process: z.array(z.object({ name: text(200).min(1), description: text(2000).default('') })).max(30).default([]),
  channels: z.array(z.enum(CHANNELS)).max(5).default([]),
  places: z.array(z.object({ address: text(500).min(1), hours: text(500).default('') })).max(20).default([]),
  consultationPhone: text(50).default(''),
  supervisionPhone: text(50).default(''),
  fee: z.object({ charged: z.boolean(), standard: text(2000).default(''), basis: text(2000).default('') })
    .refine((f) => !f.charged || f.standard !== '', { path: ['standard'], message: 'a charged item states its fee standard' })
    .default({ charged: false, standard: '', basis: '' }),
  crossRegion: z.enum(CROSS_REGION).default('NONE'),
  appointment: z.boolean().default(false),
  onlinePayment: z.boolean().default(false),
  delivery: z.boolean().default(false),
  selfServiceTerminal: z.boolean().default(false),
  coHandlingAgencies: z.array(text(200).min(1)).max(20).default([]),
  result: z.object({ name: text(200).min(1), type: z.enum(RESULT_TYPES), sampleUrl: url.default('') }).nullable().default(null),
}).strict();

export type ItemElements = z.output<typeof elementsInput>;
export type ItemElementsInput = z.input<typeof elementsInput>;

export const DEFAULT_ELEMENTS: ItemElements = elementsInput.parse({});

/** Attributes of a material beyond the core ones (R-IT-4). */
export const materialExtras = {
  type: z.enum(MATERIAL_TYPES).default('ORIGINAL'),
  sampleUrl: url.default(''),
  formUrl: url.default(''),
  sourceChannel: z.enum(MATERIAL_SOURCES).default('APPLICANT'),
  instructions: text(2000).default(''),
  acceptanceStandard: text(2000).default(''),
  electronicRequired: z.boolean().default(false),
};
