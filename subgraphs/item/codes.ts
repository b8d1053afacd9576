/**
 * Classification code lists of the catalogue (R-IT-5), zh-CN names with English.
 *
 * - Service object (服务对象, GB/T 39046): 1 natural person … 6 other organisation.
 * - Life-cycle themes (G 2.4): persons (P…) from birth to death, companies (C…) from
 *   establishment to deregistration, as the national platform groups items for navigation.
 */
export const SERVICE_OBJECTS = {
  '1': { zh: '自然人', en: 'Natural person' },
  '2': { zh: '企业法人', en: 'Enterprise legal person' },
  '3': { zh: '事业法人', en: 'Public institution' },
  '4': { zh: '社会组织法人', en: 'Social organisation' },
  '5': { zh: '非法人企业', en: 'Unincorporated enterprise' },
  '6': { zh: '其他组织', en: 'Other organisation' },
} as const;

export type ServiceObjectCode = keyof typeof SERVICE_OBJECTS;

/** Objects a theme belongs to: P themes for natural persons, C themes for companies and organisations. */
export const THEMES = {
  P01: { zh: '生育收养', en: 'Birth and adoption' },
  P02: { zh: '户籍办理', en: 'Household registration' },
  P03: { zh: '教育科研', en: 'Education and research' },
  P04: { zh: '入伍服役', en: 'Military service' },
  P05: { zh: '就业创业', en: 'Employment and start-ups' },
  P06: { zh: '婚姻登记', en: 'Marriage' },
  P07: { zh: '住房保障', en: 'Housing' },
  P08: { zh: '社会保障', en: 'Social security' },
  P09: { zh: '医疗卫生', en: 'Health care' },
  P10: { zh: '交通出行', en: 'Transport' },
  P11: { zh: '出境入境', en: 'Travel abroad' },
  P12: { zh: '证件办理', en: 'Identity documents' },
  P13: { zh: '职业资格', en: 'Professional qualifications' },
  P14: { zh: '优待抚恤', en: 'Veterans and benefits' },
  P15: { zh: '离职退休', en: 'Retirement' },
  P16: { zh: '死亡殡葬', en: 'Death and funerals' },
  P99: { zh: '其他（个人）', en: 'Other (persons)' },
  C01: { zh: '设立变更', en: 'Establishment and changes' },
  C02: { zh: '准营准办', en: 'Operating permits' },
  C03: { zh: '资质认证', en: 'Qualifications' },
  C04: { zh: '年检年审', en: 'Annual inspection' },
  C05: { zh: '税收财务', en: 'Tax and finance' },
  C06: { zh: '人力资源', en: 'Human resources' },
  C07: { zh: '社会保障（企业）', en: 'Social insurance (employers)' },
  C08: { zh: '投资审批', en: 'Investment approval' },
  C09: { zh: '规划建设', en: 'Planning and construction' },
  C10: { zh: '环保绿化', en: 'Environment' },
  C11: { zh: '安全生产', en: 'Work safety' },
  C12: { zh: '食品药品', en: 'Food and drugs' },
  C13: { zh: '交通运输', en: 'Transport (business)' },
  C14: { zh: '知识产权', en: 'Intellectual property' },
  C15: { zh: '商务贸易', en: 'Trade' },
  C16: { zh: '破产注销', en: 'Bankruptcy and deregistration' },
  C99: { zh: '其他（法人）', en: 'Other (organisations)' },
} as const;

export type ThemeCode = keyof typeof THEMES;

export const isServiceObject = (c: string): c is ServiceObjectCode => Object.hasOwn(SERVICE_OBJECTS, c);
export const isTheme = (c: string): c is ThemeCode => Object.hasOwn(THEMES, c);

/** Natural persons navigate the P themes, every other object the C themes. */
export const themesForObject = (object: ServiceObjectCode): ThemeCode[] =>
  (Object.keys(THEMES) as ThemeCode[]).filter((t) => (object === '1' ? t.startsWith('P') : t.startsWith('C')));
