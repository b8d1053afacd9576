/**
 * Demo data for `npm start` (SEED_DEMO): the same agencies, items and people for every service,
 * so the seeded platform lines up end to end. Every code here carries a valid check character
 * (kernel/demo.test.ts). Fictional: no real person or agency identifiers.
 */
import type { StaffRole } from './internal-auth.ts';

export interface DemoAgency { code: string; name: string; regionCode: string; level: number }

export const DEMO_AGENCIES = [
  { code: '11330000MB0000001L', name: '浙江省市场监督管理局', regionCode: '330000', level: 2 },
  { code: '11330100MB0000002W', name: '杭州市市场监督管理局', regionCode: '330100', level: 3 },
  { code: '11330100MB00000030', name: '杭州市人力资源和社会保障局', regionCode: '330100', level: 3 },
] as const satisfies readonly DemoAgency[];

/** Licence types: defining ministry's credit code + 3 digits (GB/T 36904 practice). */
export const DEMO_LICENCE_TYPES = {
  foodBusiness: { code: '11100000MB0000010Q001', name: '食品经营许可证' },
  businessLicence: { code: '11100000MB0000020R001', name: '营业执照' },
} as const;

export interface DemoItem {
  id: string;
  name: string;
  basicCode: string;
  implementationCode: string;
  typeCode: string;
  level: number;
  caseType: '1' | '2';
  legalTimeLimit: number;
  promisedTimeLimit: number;
  onlineDepth: number;
  visits: number;
  agencyCode: string;
  licenceType: { code: string; name: string } | null;
  materials: Array<{ code: string; name: string; required: boolean; paperCopies: number; replaceableByLicenceType?: string }>;
}

export const DEMO_ITEMS: readonly DemoItem[] = [
  {
    id: 'b0f7c1f2-0001-4000-8000-000000000001', name: '食品经营许可（新办）', basicCode: '000110011000', implementationCode: '11330100MB0000002W3000110011000',
    typeCode: '01', level: 3, caseType: '2', legalTimeLimit: 20, promisedTimeLimit: 5, onlineDepth: 5, visits: 0,
    agencyCode: '11330100MB0000002W', licenceType: DEMO_LICENCE_TYPES.foodBusiness,
    materials: [
      { code: 'M01', name: '食品经营许可申请书', required: true, paperCopies: 0 },
      { code: 'M02', name: '营业执照', required: true, paperCopies: 0, replaceableByLicenceType: DEMO_LICENCE_TYPES.businessLicence.code },
      { code: 'M03', name: '与食品经营相适应的主要设备设施布局、操作流程等文件', required: true, paperCopies: 0 },
    ],
  },
  {
    id: 'b0f7c1f2-0001-4000-8000-000000000002', name: '个体工商户设立登记', basicCode: '000107002000', implementationCode: '11330100MB0000002W3000107002000',
    typeCode: '01', level: 3, caseType: '2', legalTimeLimit: 15, promisedTimeLimit: 1, onlineDepth: 5, visits: 0,
    agencyCode: '11330100MB0000002W', licenceType: DEMO_LICENCE_TYPES.businessLicence,
    materials: [
      { code: 'M01', name: '个体工商户登记（备案）申请书', required: true, paperCopies: 0 },
      { code: 'M02', name: '经营场所使用证明', required: true, paperCopies: 0 },
    ],
  },
  {
    id: 'b0f7c1f2-0001-4000-8000-000000000003', name: '灵活就业人员参保登记', basicCode: '002018003000', implementationCode: '11330100MB000000303002018003000',
    typeCode: '20', level: 3, caseType: '1', legalTimeLimit: 1, promisedTimeLimit: 0, onlineDepth: 5, visits: 0,
    agencyCode: '11330100MB00000030', licenceType: null,
    materials: [{ code: 'M01', name: '灵活就业人员参保登记表', required: true, paperCopies: 0 }],
  },
  {
    id: 'b0f7c1f2-0001-4000-8000-000000000004', name: '食品生产许可（省级）', basicCode: '000110010000', implementationCode: '11330000MB0000001L2000110010000',
    typeCode: '01', level: 2, caseType: '2', legalTimeLimit: 20, promisedTimeLimit: 10, onlineDepth: 4, visits: 1,
    agencyCode: '11330000MB0000001L', licenceType: { code: '11100000MB0000010Q002', name: '食品生产许可证' },
    materials: [
      { code: 'M01', name: '食品生产许可申请书', required: true, paperCopies: 1 },
      { code: 'M02', name: '食品生产设备、设施布局图', required: true, paperCopies: 1 },
    ],
  },
];

export interface DemoStaff { id: string; username: string; password: string; name: string; agencyCode: string; roles: StaffRole[] }

/** One staff account per role at the Hangzhou market supervision bureau. */
export const DEMO_STAFF: readonly DemoStaff[] = (['receiver', 'acceptor', 'reviewer', 'decider'] as const).map((role, i) => ({
  id: `5a1f0000-0000-4000-8000-00000000000${i + 1}`,
  username: `hz-${role}`,
  password: 'Staff@2026demo',
  name: ({ receiver: '王收件', acceptor: '李受理', reviewer: '赵审查', decider: '陈决定' } as const)[role],
  agencyCode: '11330100MB0000002W',
  roles: [role],
}));

export const DEMO_CITIZEN = {
  id: 'c1712e40-0000-4000-8000-000000000001',
  name: '张三',
  idNumber: '33010619900101123X',
  mobile: '13800138000',
  /** The second registration factor (R-ID-1): social-security card number. */
  socialSecurityCard: 'A12345678',
  password: 'Citizen@2026demo',
} as const;
