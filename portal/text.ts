/** Texts of the guide pages: zh-CN first, English on `?lang=en`. */
export type Lang = 'zh-CN' | 'en';

const T = {
  site: ['一网通办 · 办事指南', 'Yiwang · Service guides'],
  skip: ['跳到主要内容', 'Skip to main content'],
  home: ['首页', 'Home'],
  searchLabel: ['搜索事项（名称、编码、材料、主题）', 'Search services (name, code, material, theme)'],
  searchButton: ['搜索', 'Search'],
  searchHint: ['多个词用空格分开；用引号 "…" 查找完整短语。', 'Separate words with spaces; put a phrase in quotes "…" to match it exactly.'],
  hot: ['热门服务', 'Popular services'],
  rankings: ['部门服务排行榜', 'Agency ranking board'],
  rankingsIntro: ['按关键指标自动排名，每 30 分钟更新；统计 {from} 至 {to}。', 'Ranked automatically on the key indicators, refreshed every 30 minutes; counting {from} to {to}.'],
  rankingsEmpty: ['本统计周期还没有可排名的部门。', 'No agency to rank in this period yet.'],
  rank: ['名次', 'Rank'],
  score: ['得分', 'Score'],
  casesDone: ['办结件数', 'Cases completed'],
  onlineRate: ['全程网办率', 'Online-handling rate'],
  onTimeRate: ['按时办结率', 'On-time completion'],
  satisfaction: ['满意度（5 分制）', 'Satisfaction (of 5)'],
  complaintOnTime: ['投诉按时答复率', 'Complaints answered on time'],
  visitsPerCase: ['平均跑动次数', 'Visits per case'],
  formula: ['计算方法', 'How the score is computed'],
  hotEmpty: ['近期还没有办结的办件。', 'No completed cases recently.'],
  cases: ['件', 'cases'],
  scenarios: ['场景导航', 'Browse by situation'],
  results: ['搜索结果', 'Results'],
  found: ['共找到 {n} 项', '{n} found'],
  about: ['约 {n} 项', 'about {n}'],
  none: ['没有找到相关事项。请换个说法，或减少筛选条件。', 'Nothing found. Try other words or fewer filters.'],
  next: ['下一页', 'Next page'],
  filters: ['筛选', 'Filters'],
  apply: ['应用筛选', 'Apply filters'],
  any: ['不限', 'Any'],
  nature: ['事项性质', 'Nature'],
  power: ['行政权力', 'Administrative power'],
  service: ['公共服务', 'Public service'],
  object: ['服务对象', 'Service object'],
  theme: ['主题', 'Theme'],
  level: ['层级', 'Level'],
  depth: ['网办深度（至少）', 'Online depth (at least)'],
  online: ['可网上办理', 'Can be applied for online'],
  agency: ['实施机构', 'Agency'],
  yes: ['是', 'Yes'],
  no: ['否', 'No'],
  guide: ['办事指南', 'Service guide'],
  basic: ['基本信息', 'Basic information'],
  basicCode: ['基本编码', 'Basic code'],
  implCode: ['实施编码', 'Implementation code'],
  type: ['事项类型', 'Item type'],
  caseType: ['办件类型', 'Case type'],
  instant: ['即办件', 'Instant'],
  promised: ['承诺件', 'Promised'],
  legalLimit: ['法定办结时限', 'Legal time limit'],
  promisedLimit: ['承诺办结时限', 'Promised time limit'],
  workingDays: ['个工作日', 'working days'],
  naturalDays: ['个自然日', 'days'],
  visits: ['到现场次数', 'Visits to the hall'],
  legalBasis: ['设定依据', 'Legal basis'],
  conditions: ['受理条件', 'Acceptance conditions'],
  process: ['办理流程', 'Process'],
  materials: ['申请材料', 'Materials'],
  material: ['材料名称', 'Material'],
  required: ['必要性', 'Required'],
  mandatory: ['必要', 'Required'],
  optional: ['非必要', 'Optional'],
  form: ['材料形式', 'Form'],
  copies: ['纸质份数', 'Paper copies'],
  source: ['来源渠道', 'Source'],
  download: ['表格下载', 'Forms'],
  downloadForm: ['下载空白表格', 'Download form'],
  sample: ['样表', 'Sample'],
  noForm: ['无需表格', 'No form'],
  licenceReplaces: ['可用电子证照代替', 'An electronic licence can replace it'],
  hints: ['办理提示', 'Handling hints'],
  channels: ['办理形式', 'Channels'],
  onlineYes: ['可网上办理', 'Can be applied for online'],
  onlineNo: ['须到现场办理', 'Apply in person'],
  appointment: ['支持预约', 'Appointments'],
  payment: ['网上支付', 'Online payment'],
  delivery: ['快递送达', 'Delivery by post'],
  terminal: ['自助终端', 'Self-service terminals'],
  crossRegion: ['通办范围', 'Where it can be handled'],
  fee: ['收费', 'Fees'],
  free: ['不收费', 'Free of charge'],
  places: ['办理地点和时间', 'Where and when'],
  phones: ['咨询和监督电话', 'Phones'],
  consult: ['咨询', 'Enquiries'],
  supervise: ['监督投诉', 'Complaints'],
  result: ['办理结果', 'Result'],
  coHandling: ['联办机构', 'Co-handling agencies'],
  share: ['扫码分享本指南', 'Scan to share this guide'],
  related: ['办了这个事项的人还办了', 'People who did this also did'],
  before: ['通常在此之前', 'usually before'],
  after: ['通常在此之后', 'usually after'],
  notFound: ['没有找到这个事项。', 'No such service.'],
  unavailable: ['服务暂时不可用，请稍后再试。', 'The service is unavailable; please try again later.'],
  badInput: ['输入有误：', 'Invalid input: '],
  stars: ['星', 'stars'],
  themeItems: ['主题下的事项', 'Services of this theme'],
  lang: ['English', '中文'],
  unspecified: ['未填写', 'Not given'],
} as const;

export type Key = keyof typeof T;

export function t(lang: Lang, key: Key, vars: Record<string, string | number> = {}): string {
  const s = T[key][lang === 'en' ? 1 : 0];
  return s.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}

export const CROSS_REGION_TEXT: Record<string, [string, string]> = {
  NONE: ['仅限实施机关所在地', 'Only at the implementing agency'],
  CITY: ['全市通办', 'Anywhere in the city'],
  PROVINCE: ['全省通办', 'Anywhere in the province'],
  INTER_PROVINCE: ['跨省通办', 'Across provinces'],
  NATIONAL: ['全国通办', 'Nationwide'],
};
export const CHANNEL_TEXT: Record<string, [string, string]> = {
  1: ['窗口办理', 'At the window'], 2: ['网上办理（电脑）', 'Online (PC)'], 3: ['掌上办理（手机）', 'Mobile'], 4: ['邮寄', 'By post'], 9: ['其他', 'Other'],
};
export const MATERIAL_TYPE_TEXT: Record<string, [string, string]> = {
  ORIGINAL: ['原件', 'Original'], COPY: ['复印件', 'Copy'], ORIGINAL_AND_COPY: ['原件和复印件', 'Original and copy'], ELECTRONIC: ['电子件', 'Electronic'],
};
export const SOURCE_TEXT: Record<string, [string, string]> = {
  APPLICANT: ['申请人自备', 'The applicant'], GOVERNMENT: ['政府部门核发', 'A government agency'], INTERMEDIARY: ['中介机构', 'An intermediary'], OTHER: ['其他', 'Other'],
};
export const RESULT_TYPE_TEXT: Record<string, [string, string]> = {
  CERTIFICATE: ['证照', 'Certificate'], APPROVAL_DOCUMENT: ['批文', 'Approval document'], FILING: ['备案', 'Filing'], PAYMENT: ['给付', 'Payment'], OTHER: ['其他', 'Other'],
};
export const LEVEL_TEXT: Record<number, [string, string]> = {
  1: ['国家级', 'National'], 2: ['省级', 'Provincial'], 3: ['市级', 'Municipal'], 4: ['县级', 'County'], 5: ['乡镇级', 'Township'], 6: ['村级', 'Village'], 7: ['分级', 'Graded'],
};
export const pick = (lang: Lang, pair: [string, string] | undefined, fallback = ''): string => (pair ? pair[lang === 'en' ? 1 : 0] : fallback);
