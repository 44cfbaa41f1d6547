// The web console: inbox, cases, a case with its timeline picture, its
// meetings, and the dashboard, drawn from the gateway's JSON API
// (services/gateway/console.h). A plain ES module: no build step, nothing
// from other sites.
//
// Everything shown is inserted as text (h() below builds elements and sets
// text nodes; innerHTML is never used with data). The timeline picture is
// parsed as XML and imported as SVG elements, scripts and event handlers
// removed, and the page's Content-Security-Policy runs only this file.

const NODE_KEY = 'referral.console.node';
const LANG_KEY = 'referral.console.lang';

// ------------------------------------------------------------------ words

const STRINGS = {
  zh: {
    title: '转介协同控制台',
    node: '当前机构',
    inbox: '收件箱',
    cases: '案件',
    caseDetail: '案件详情',
    meetings: '会议',
    dashboard: '统计',
    loading: '加载中…',
    backlog: '未确认消息',
    oldest: '最早一条',
    none: '无',
    inboxEmpty: '没有待签收或待受理的转介。',
    referral: '转介编号',
    case: '案件编号',
    from: '来自',
    to: '转至',
    purpose: '事由',
    priority: '优先级',
    state: '状态',
    sent: '转出时间',
    updated: '更新时间',
    actions: '操作',
    receive: '签收',
    accept: '受理',
    received: (id) => `已签收 ${id}`,
    accepted: (id) => `已受理 ${id}`,
    searchBy: '搜索条件',
    workerName: '工人姓名',
    workerNameHint: '姓名或开头几个字',
    idNumber: '工人身份证号码',
    idNumberHint: '18位身份证号码',
    partyName: '用人单位/承包商/开发商',
    partyNameHint: '名称或开头几个字',
    projectHint: '项目名称中的字词',
    partyNode: '相关机构',
    partyNodeHint: '机构代码，如 qinzhou.labor-inspection',
    referralState: '转介状态',
    openedDate: '立案日期',
    dateFrom: '起',
    dateTo: '止（含当日）',
    any: '不限',
    addCriterion: '添加条件',
    removeCriterion: '删除此条件',
    searchButton: '搜索',
    clearSearch: '清除条件',
    prevPage: '上一页',
    nextPage: '下一页',
    pageN: (n) => `第 ${n} 页`,
    opened: '立案时间',
    workers: '工人',
    caseTitle: '标题',
    matter: '事项',
    owner: '立案机构',
    channel: '来源',
    green: '绿色通道',
    yes: '是',
    amount: '请求金额',
    parties: '当事方',
    project: '项目',
    jurisdiction: '地区',
    referrals: '转介',
    count: '转介数',
    noCases: '没有可查看的案件。',
    noMatch: '没有符合搜索条件的案件。',
    timeline: '时间线',
    events: '事件',
    seq: '序号',
    time: '时间',
    gap: '间隔',
    by: '机构',
    event: '事件',
    summary: '摘要',
    meetingsOf: '本案会议',
    noMeetings: '本案还没有会议。',
    kind: '类型',
    when: '时间',
    place: '地点',
    convener: '召集机构',
    invitees: '参会方',
    response: '答复',
    attended: '出席',
    agreement: '协议金额',
    minutes: '会议纪要',
    referralsIn: '转入',
    referralsOut: '转出',
    medianAccept: '受理用时中位数',
    overdue: '超期',
    escalated: '督办（下级超期）',
    acceptedSample: (n) => `已受理 ${n} 件`,
    unknown: '未知',
    byState: '按状态',
    back: '返回案件列表',
    toMeetings: '查看本案会议',
    toCase: '返回案件详情',
    footer: '本控制台仅供本机使用（127.0.0.1），以所选机构的证书办理业务，不对外提供服务。',
    yuan: '元',
    errorTitle: '出错了',
    langButton: 'English',
  },
  en: {
    title: 'Referral console',
    node: 'Acting as',
    inbox: 'Inbox',
    cases: 'Cases',
    caseDetail: 'Case',
    meetings: 'Meetings',
    dashboard: 'Dashboard',
    loading: 'Loading…',
    backlog: 'Unacknowledged',
    oldest: 'oldest',
    none: 'none',
    inboxEmpty: 'No referrals waiting to be received or accepted.',
    referral: 'Referral',
    case: 'Case',
    from: 'From',
    to: 'To',
    purpose: 'Purpose',
    priority: 'Priority',
    state: 'State',
    sent: 'Sent',
    updated: 'Updated',
    actions: 'Actions',
    receive: 'Receive',
    accept: 'Accept',
    received: (id) => `Received ${id}`,
    accepted: (id) => `Accepted ${id}`,
    searchBy: 'Search by',
    workerName: 'Worker name',
    workerNameHint: 'Name or its beginning',
    idNumber: "Worker's ID number",
    idNumberHint: '18-character ID number',
    partyName: 'Employer, contractor or developer',
    partyNameHint: 'Name or its beginning',
    projectHint: 'Part of the project name',
    partyNode: 'Node party to the case',
    partyNodeHint: 'Node name, e.g. qinzhou.labor-inspection',
    referralState: 'Referral state',
    openedDate: 'Opened',
    dateFrom: 'from',
    dateTo: 'to (included)',
    any: 'Any',
    addCriterion: 'Add a criterion',
    removeCriterion: 'Remove this criterion',
    searchButton: 'Search',
    clearSearch: 'Clear',
    prevPage: 'Previous page',
    nextPage: 'Next page',
    pageN: (n) => `Page ${n}`,
    opened: 'Opened',
    workers: 'Workers',
    caseTitle: 'Title',
    matter: 'Matter',
    owner: 'Opened by',
    channel: 'Channel',
    green: 'Green channel',
    yes: 'yes',
    amount: 'Amount claimed',
    parties: 'Parties',
    project: 'Project',
    jurisdiction: 'Area',
    referrals: 'Referrals',
    count: 'Referrals',
    noCases: 'No cases to show.',
    noMatch: 'No case matches the search.',
    timeline: 'Timeline',
    events: 'Events',
    seq: '#',
    time: 'Time',
    gap: 'Since',
    by: 'Node',
    event: 'Event',
    summary: 'Summary',
    meetingsOf: 'Meetings of the case',
    noMeetings: 'No meetings yet.',
    kind: 'Kind',
    when: 'When',
    place: 'Where',
    convener: 'Convener',
    invitees: 'Invitees',
    response: 'Answer',
    attended: 'Attended',
    agreement: 'Agreed amount',
    minutes: 'Minutes',
    referralsIn: 'Referrals in',
    referralsOut: 'Referrals out',
    medianAccept: 'Median time to accept',
    overdue: 'Overdue',
    escalated: 'Escalated to us',
    acceptedSample: (n) => `${n} accepted`,
    unknown: 'unknown',
    byState: 'By state',
    back: 'Back to cases',
    toMeetings: 'Meetings of this case',
    toCase: 'Back to the case',
    footer: 'A console for this machine only (127.0.0.1): it acts with the chosen agency\'s certificate and serves no one else.',
    yuan: 'yuan',
    errorTitle: 'Error',
    langButton: '中文',
  },
};

function initialLang() {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved === 'zh' || saved === 'en') return saved;
  const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'zh'];
  return langs.some((l) => String(l).toLowerCase().startsWith('zh')) ? 'zh' : 'en';
}

let lang = initialLang();
const t = (key, ...args) => {
  const v = STRINGS[lang][key] ?? STRINGS.zh[key] ?? key;
  return typeof v === 'function' ? v(...args) : v;
};

// ------------------------------------------------------------------- DOM

// h('td', {class: 'num'}, 'text', child...): attributes set one by one,
// strings become text nodes. The only way this file makes elements.
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

function table(headers, rows) {
  return h('table', {},
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows));
}

// The timeline picture as SVG elements of this document.
function importSvg(text) {
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  const root = doc.documentElement;
  if (root.localName !== 'svg' || doc.getElementsByTagName('parsererror').length > 0) {
    throw new Error('the timeline is not an SVG picture');
  }
  for (const el of root.querySelectorAll('script, foreignObject')) el.remove();
  for (const el of [root, ...root.querySelectorAll('*')]) {
    for (const a of [...el.attributes]) {
      if (/^on/i.test(a.name) || /^\s*javascript:/i.test(a.value)) el.removeAttribute(a.name);
    }
  }
  return document.importNode(root, true);
}

// ------------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.error = error;
  }
}

function currentNode() {
  return document.getElementById('node-picker').value || '';
}

async function api(path, { method = 'GET', body } = {}) {
  const headers = { 'X-Referral-Node': currentNode() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, {
      code: 'UNAVAILABLE', reason: 'UNAVAILABLE', message: String(e),
      message_zh: '无法连接控制台服务，请确认 gateway 正在运行。',
    });
  }
  const text = await res.text();
  if (!res.ok) {
    let error;
    try { error = JSON.parse(text).error; } catch { error = null; }
    throw new ApiError(res.status, error || { code: String(res.status), reason: '', message: text, message_zh: '' });
  }
  return text;
}
const apiJson = async (path, options) => JSON.parse(await api(path, options));

function errorBox(e) {
  if (!(e instanceof ApiError)) {
    return h('div', { class: 'error', role: 'alert' }, `${t('errorTitle')}: ${e.message || e}`);
  }
  const err = e.error;
  const first = lang === 'zh' ? (err.message_zh || err.message) : (err.message || err.message_zh);
  const second = lang === 'zh' ? err.message : err.message_zh;
  return h('div', { class: 'error', role: 'alert', 'data-status': e.status, 'data-reason': err.reason },
    h('strong', {}, `${e.status} ${err.code}`), ' ', first,
    h('div', { class: 'detail' }, err.reason, second && second !== first ? ` — ${second}` : ''));
}

// ------------------------------------------------------------ vocabulary

let vocabulary = null;
let nodes = [];

function label(tableName, name) {
  const term = vocabulary && vocabulary[tableName] && vocabulary[tableName][name];
  if (!term) return name && !/_UNSPECIFIED$/.test(name) ? name : '-';
  return lang === 'zh' ? term.zh : term.en;
}

function nodeName(name) {
  const n = nodes.find((x) => x.name === name);
  if (!n) return name || '-';
  const display = lang === 'zh' ? n.display_name_zh : n.display_name_en;
  return display ? `${display} (${name})` : name;
}

function shortNodeName(name) {
  const n = nodes.find((x) => x.name === name);
  const display = n && (lang === 'zh' ? n.display_name_zh : n.display_name_en);
  return display || name || '-';
}

const TIME = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
});

function formatTime(ts) {
  if (!ts || ts.startsWith('1970-01-01')) return '-';
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : TIME.format(d);
}

function formatYuan(fen) {
  const n = Number(fen || 0) / 100;
  return `${n.toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${t('yuan')}`;
}

function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return t('unknown');
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (lang === 'zh') {
    if (d > 0) return `${d}天${hr}小时`;
    if (hr > 0) return `${hr}小时${String(m).padStart(2, '0')}分`;
    return m > 0 ? `${m}分钟` : `${s}秒`;
  }
  if (d > 0) return `${d}d ${hr}h`;
  if (hr > 0) return `${hr}h ${String(m).padStart(2, '0')}m`;
  return m > 0 ? `${m}m` : `${s}s`;
}

const shortId = (id) => (id || '').slice((id || '').lastIndexOf('/') + 1);
const caseHref = (id) => `#/case/${encodeURIComponent(id)}`;

function stateCell(state) {
  return h('td', { class: 'state', 'data-state': state }, label('referral_states', state));
}

// ----------------------------------------------------------------- views

function flash(text) {
  document.getElementById('flash').textContent = text;
}

async function inboxView() {
  const inbox = await apiJson('/api/v1/inbox');
  const backlog = inbox.backlog || {};
  const rows = inbox.items.map((r) => {
    const buttons = [];
    const act = (verb, done) => async (ev) => {
      for (const b of ev.target.closest('td').querySelectorAll('button')) b.disabled = true;
      try {
        await api(`/api/v1/referrals/${encodeURIComponent(r.referral_id)}:${verb}`, {
          method: 'POST',
          body: { request_id: `console-${crypto.randomUUID()}` },
        });
        flash(done(shortId(r.referral_id)));
        await render();
      } catch (e) {
        document.getElementById('main').prepend(errorBox(e));
        for (const b of ev.target.closest('td').querySelectorAll('button')) b.disabled = false;
      }
    };
    if (r.state === 'REFERRAL_STATE_REQUESTED') {
      buttons.push(h('button', { type: 'button', onclick: act('receive', (id) => t('received', id)) }, t('receive')));
    }
    buttons.push(h('button', { type: 'button', class: 'primary', onclick: act('accept', (id) => t('accepted', id)) }, t('accept')));
    return h('tr', { 'data-referral': r.referral_id },
      h('td', {}, h('a', { href: caseHref(r.case_id), class: 'id' }, r.referral_id)),
      h('td', {}, shortNodeName(r.from_node)),
      h('td', {}, r.purpose || '-'),
      h('td', {}, h('span', { class: r.priority === 'PRIORITY_GREEN_CHANNEL' ? 'tag green' : 'tag' }, label('priorities', r.priority))),
      stateCell(r.state),
      h('td', {}, formatTime(r.create_time)),
      h('td', {}, buttons));
  });
  return [
    h('h2', {}, t('inbox')),
    h('div', { class: 'cards' },
      h('div', { class: 'card' },
        h('div', { class: 'label' }, t('backlog')),
        h('div', { class: 'value', 'data-testid': 'backlog-count' }, String(Number(backlog.unacknowledged || 0))),
        h('div', { class: 'note' }, `${t('oldest')}: ${Number(backlog.unacknowledged || 0) > 0 ? formatTime(backlog.oldest_unacknowledged_time) : t('none')}`))),
    rows.length === 0
      ? h('p', { class: 'muted' }, t('inboxEmpty'))
      : table([t('referral'), t('from'), t('purpose'), t('priority'), t('state'), t('sent'), t('actions')], rows),
  ];
}

// ------------------------------------------------------------ case search

// What cases can be searched by (POST /api/v1/cases:search, criteria in the
// body: an ID number never goes in a URL). `key` is the request field;
// "opened" is the pair opened_from / opened_to, Asia/Shanghai days, the
// last one included.
const SEARCH_FIELDS = [
  { key: 'worker_name', label: 'workerName', kind: 'text', hint: 'workerNameHint' },
  { key: 'worker_id_number', label: 'idNumber', kind: 'text', hint: 'idNumberHint', maxlength: 18 },
  { key: 'party_name', label: 'partyName', kind: 'text', hint: 'partyNameHint' },
  { key: 'project', label: 'project', kind: 'text', hint: 'projectHint' },
  { key: 'matter', label: 'matter', kind: 'term', table: 'matters' },
  { key: 'node', label: 'partyNode', kind: 'text', hint: 'partyNodeHint' },
  { key: 'state', label: 'referralState', kind: 'term', table: 'referral_states' },
  { key: 'opened', label: 'openedDate', kind: 'days' },
];

const WORKER_ROLES = new Set(['PARTY_ROLE_WORKER', 'PARTY_ROLE_WORKER_GROUP', 'PARTY_ROLE_WORKER_REPRESENTATIVE']);

// The search as the person left it, kept across redraws (language, a case
// and back): the form's rows, the criteria last searched, and the page
// tokens of the pages up to the one shown ('' = the first page). Another
// node starts again from the first page.
const caseSearch = {
  rows: [{ field: 'worker_name', value: '', to: '' }],
  criteria: {},
  pages: [''],
  node: null,
};

function newRow() {
  const used = new Set(caseSearch.rows.map((r) => r.field));
  const free = SEARCH_FIELDS.find((f) => !used.has(f.key));
  return free ? { field: free.key, value: '', to: '' } : null;
}

// The request body for the form as filled in: empty fields are no criterion.
function criteriaOfForm() {
  const body = {};
  for (const row of caseSearch.rows) {
    if (row.field === 'opened') {
      if (row.value) body.opened_from = row.value;
      if (row.to) body.opened_to = row.to;
    } else if (row.value.trim()) {
      body[row.field] = row.value.trim();
    }
  }
  return body;
}

function criterionControl(row, field) {
  const set = (key) => (ev) => { row[key] = ev.target.value; };
  if (field.kind === 'days') {
    return [
      h('label', {}, t('dateFrom'), ' ',
        h('input', { type: 'date', value: row.value, 'aria-label': `${t('openedDate')} ${t('dateFrom')}`, oninput: set('value') })),
      h('label', {}, t('dateTo'), ' ',
        h('input', { type: 'date', value: row.to, 'aria-label': `${t('openedDate')} ${t('dateTo')}`, oninput: set('to') })),
    ];
  }
  if (field.kind === 'term') {
    const terms = Object.entries((vocabulary && vocabulary[field.table]) || {})
      .filter(([name]) => !/_UNSPECIFIED$/.test(name));
    return h('select', { 'aria-label': t(field.label), onchange: set('value') },
      h('option', { value: '' }, t('any')),
      terms.map(([name]) => h('option', { value: name, selected: name === row.value }, label(field.table, name))));
  }
  return h('input', {
    type: 'text', value: row.value, placeholder: t(field.hint), 'aria-label': t(field.label),
    maxlength: field.maxlength, autocomplete: 'off', spellcheck: 'false', oninput: set('value'),
  });
}

function searchForm(search) {
  const rowsBox = h('div', { class: 'criteria' });
  const add = h('button', { type: 'button' }, t('addCriterion'));
  const draw = () => {
    rowsBox.replaceChildren(...caseSearch.rows.map((row) => {
      const field = SEARCH_FIELDS.find((f) => f.key === row.field);
      const taken = new Set(caseSearch.rows.filter((r) => r !== row).map((r) => r.field));
      const picker = h('select', {
        'aria-label': t('searchBy'), 'data-testid': 'search-field',
        onchange: (ev) => { Object.assign(row, { field: ev.target.value, value: '', to: '' }); draw(); },
      }, SEARCH_FIELDS.map((f) => h('option', { value: f.key, selected: f.key === row.field, disabled: taken.has(f.key) }, t(f.label))));
      const remove = caseSearch.rows.length > 1 && h('button', {
        type: 'button', class: 'remove', title: t('removeCriterion'), 'aria-label': t('removeCriterion'),
        onclick: () => { caseSearch.rows = caseSearch.rows.filter((r) => r !== row); draw(); },
      }, '×');
      return h('div', { class: 'criterion' }, picker, criterionControl(row, field), remove);
    }));
    add.disabled = caseSearch.rows.length >= SEARCH_FIELDS.length;
  };
  add.addEventListener('click', () => {
    const row = newRow();
    if (row) caseSearch.rows.push(row);
    draw();
  });
  const clear = h('button', {
    type: 'button',
    onclick: () => {
      caseSearch.rows = [{ field: 'worker_name', value: '', to: '' }];
      draw();
      search({});
    },
  }, t('clearSearch'));
  draw();
  return h('form', {
    class: 'case-search', role: 'search', 'aria-label': t('searchBy'),
    onsubmit: (ev) => { ev.preventDefault(); search(criteriaOfForm()); },
  }, rowsBox, h('div', { class: 'actions' }, add, h('button', { type: 'submit', class: 'primary' }, t('searchButton')), clear));
}

// One page of results for caseSearch.criteria, with the pager.
async function caseResults(turnPage) {
  const token = caseSearch.pages[caseSearch.pages.length - 1];
  let found;
  try {
    found = await apiJson('/api/v1/cases:search', {
      method: 'POST',
      body: token ? { ...caseSearch.criteria, page_token: token } : caseSearch.criteria,
    });
  } catch (e) {
    return [errorBox(e)];
  }
  const cases = found.cases || [];
  const rows = cases.map((c) => {
    const o = c.opened || {};
    // Personal data comes masked from the service and is shown as it came.
    const workers = (o.parties || []).filter((p) => WORKER_ROLES.has(p.role))
      .map((p) => (p.id_number ? `${p.name} ${p.id_number}` : p.name));
    return h('tr', { 'data-case': c.case_id },
      h('td', {}, h('a', { href: caseHref(c.case_id), class: 'id' }, c.case_id)),
      h('td', {}, formatTime(c.create_time)),
      h('td', {}, o.title || '-'),
      h('td', {}, label('matters', o.matter)),
      h('td', {}, o.project || '-'),
      h('td', { class: 'workers' }, workers.length ? workers.join('、') : '-'),
      h('td', {}, shortNodeName(o.owning_node)),
      h('td', {}, o.green_channel ? h('span', { class: 'tag green' }, t('green')) : ''),
      h('td', { class: 'num' }, String((c.referrals || []).length)));
  });
  const searched = Object.keys(caseSearch.criteria).length > 0;
  const page = caseSearch.pages.length;
  const pager = h('div', { class: 'pager' },
    page > 1 && h('button', { type: 'button', onclick: () => { caseSearch.pages.pop(); turnPage(); } }, t('prevPage')),
    (page > 1 || Boolean(found.next_page_token)) && h('span', { 'data-testid': 'page-number' }, t('pageN', page)),
    Boolean(found.next_page_token) && h('button', {
      type: 'button', onclick: () => { caseSearch.pages.push(found.next_page_token); turnPage(); },
    }, t('nextPage')));
  return [
    rows.length === 0
      ? h('p', { class: 'muted', 'data-testid': 'no-cases' }, searched ? t('noMatch') : t('noCases'))
      : table([t('case'), t('opened'), t('caseTitle'), t('matter'), t('project'), t('workers'),
        t('owner'), t('green'), t('count')], rows),
    pager,
  ];
}

async function casesView() {
  if (caseSearch.node !== currentNode()) {
    caseSearch.node = currentNode();
    caseSearch.pages = [''];
  }
  const results = h('div', { class: 'results', 'aria-live': 'polite' });
  let shown = 0;
  const show = async () => {
    const mine = ++shown;
    const content = await caseResults(show);
    if (mine === shown) results.replaceChildren(...content.filter(Boolean));
  };
  const form = searchForm((criteria) => {
    caseSearch.criteria = criteria;
    caseSearch.pages = [''];
    return show();
  });
  await show();
  return [h('h2', {}, t('cases')), form, results];
}

async function caseView(caseId) {
  const enc = encodeURIComponent(caseId);
  // The case first: a node that may not see it gets the error, nothing else.
  const { case: c } = await apiJson(`/api/v1/cases/${enc}`);
  const [trace, svgText] = await Promise.all([
    apiJson(`/api/v1/cases/${enc}/trace`).catch((e) => e),
    api(`/api/v1/cases/${enc}/timeline.svg`).catch((e) => e),
  ]);
  const o = c.opened || {};
  const facts = h('dl', { class: 'facts' },
    h('dt', {}, t('caseTitle')), h('dd', {}, o.title || '-'),
    h('dt', {}, t('owner')), h('dd', {}, nodeName(o.owning_node)),
    h('dt', {}, t('channel')), h('dd', {}, label('intake_channels', o.channel)),
    h('dt', {}, t('matter')), h('dd', {}, label('matters', o.matter)),
    h('dt', {}, t('jurisdiction')), h('dd', {}, o.jurisdiction || '-'),
    h('dt', {}, t('project')), h('dd', {}, o.project || '-'),
    h('dt', {}, t('amount')), h('dd', {}, formatYuan(o.amount_claimed_fen)),
    h('dt', {}, t('green')), h('dd', {}, o.green_channel ? t('yes') : '-'),
    h('dt', {}, t('parties')),
    h('dd', {}, (o.parties || []).map((p) => h('div', {},
      `${label('party_roles', p.role)}：${p.name}${p.head_count ? ` (${p.head_count})` : ''}`))));
  const referrals = (c.referrals || []).map((r) => h('tr', { 'data-referral': r.referral_id },
    h('td', { class: 'id' }, shortId(r.referral_id)),
    h('td', {}, shortNodeName(r.from_node)),
    h('td', {}, shortNodeName(r.to_node)),
    h('td', {}, r.purpose || '-'),
    stateCell(r.state),
    h('td', {}, formatTime(r.update_time))));

  let picture;
  if (svgText instanceof Error) {
    picture = errorBox(svgText);
  } else {
    try {
      picture = h('figure', { class: 'timeline', 'aria-label': t('timeline') }, importSvg(svgText));
    } catch (e) {
      picture = errorBox(e);
    }
  }
  let events;
  if (trace instanceof Error) {
    events = errorBox(trace);
  } else {
    events = table([t('seq'), t('time'), t('gap'), t('by'), t('event'), t('summary')],
      trace.timeline.map((row) => h('tr', {},
        h('td', { class: 'num' }, row.seq),
        h('td', {}, row.time),
        h('td', {}, row.gap),
        h('td', {}, shortNodeName(row.node)),
        h('td', {}, lang === 'zh' ? row.event_zh : label('events', row.event_type) || row.event_type),
        h('td', {}, row.summary))));
  }
  return [
    h('p', {}, h('a', { href: '#/cases' }, `← ${t('back')}`)),
    h('h2', {}, `${t('caseDetail')} `, h('span', { class: 'id' }, c.case_id)),
    facts,
    h('h3', {}, t('referrals')),
    referrals.length === 0 ? h('p', { class: 'muted' }, '-')
      : table([t('referral'), t('from'), t('to'), t('purpose'), t('state'), t('updated')], referrals),
    h('p', {}, h('a', { href: `${caseHref(c.case_id)}/meetings` }, `${t('toMeetings')} →`)),
    h('h3', {}, t('timeline')),
    picture,
    h('h3', {}, t('events')),
    events,
  ];
}

async function meetingsView(caseId) {
  const { meetings = [] } = await apiJson(`/api/v1/cases/${encodeURIComponent(caseId)}/meetings`);
  const cards = meetings.map((m) => {
    const slot = m.slot || {};
    const invitees = (m.invitees || []).map((i) => h('tr', {},
      h('td', {}, i.node ? shortNodeName(i.node) : `${label('party_roles', i.party?.role)}：${i.party?.name || '-'}`),
      h('td', {}, label('invitation_responses', i.response)),
      h('td', {}, i.attended ? '✓' : '')));
    return h('section', { class: 'meeting', 'data-meeting': m.meeting_id },
      h('h3', {}, `${m.title || shortId(m.meeting_id)} `, h('span', { class: 'tag' }, label('meeting_kinds', m.kind)),
        ' ', h('span', { class: 'tag' }, label('meeting_states', m.state))),
      h('dl', { class: 'facts' },
        h('dt', {}, t('when')), h('dd', {}, `${formatTime(slot.start_time)} – ${formatTime(slot.end_time)}`),
        h('dt', {}, t('place')), h('dd', {}, slot.place || '-'),
        h('dt', {}, t('convener')), h('dd', {}, nodeName(m.convener_node)),
        m.agreement && Number(m.agreement.total_fen) > 0 ? [h('dt', {}, t('agreement')), h('dd', {}, formatYuan(m.agreement.total_fen))] : null,
        m.minutes ? [h('dt', {}, t('minutes')), h('dd', {}, m.minutes)] : null),
      h('h4', {}, t('invitees')),
      table([t('invitees'), t('response'), t('attended')], invitees));
  });
  return [
    h('p', {}, h('a', { href: caseHref(caseId) }, `← ${t('toCase')}`)),
    h('h2', {}, `${t('meetingsOf')} `, h('span', { class: 'id' }, caseId)),
    cards.length === 0 ? h('p', { class: 'muted' }, t('noMeetings')) : cards,
  ];
}

async function dashboardView() {
  const d = await apiJson('/api/v1/dashboard');
  const card = (key, value, testid, note) => h('div', { class: 'card' },
    h('div', { class: 'label' }, t(key)),
    h('div', { class: 'value', 'data-testid': testid }, value),
    note ? h('div', { class: 'note' }, note) : null);
  const overdueNote = d.overdue_error
    ? (lang === 'zh' ? d.overdue_error.message_zh : d.overdue_error.message) : null;
  const states = [...new Set([...Object.keys(d.in_by_state), ...Object.keys(d.out_by_state)])];
  return [
    h('h2', {}, `${t('dashboard')} · ${nodeName(d.node)}`),
    h('div', { class: 'cards' },
      card('referralsIn', String(d.referrals_in), 'referrals-in'),
      card('referralsOut', String(d.referrals_out), 'referrals-out'),
      card('medianAccept', formatDuration(d.median_seconds_to_accept), 'median-accept', t('acceptedSample', d.accepted_in)),
      card('overdue', d.overdue === null ? t('unknown') : String(d.overdue), 'overdue', overdueNote),
      card('escalated', d.escalated === null ? t('unknown') : String(d.escalated), 'escalated')),
    h('h3', {}, t('byState')),
    table([t('state'), t('referralsIn'), t('referralsOut')], states.map((s) => h('tr', {},
      stateCell(s),
      h('td', { class: 'num' }, String(d.in_by_state[s] || 0)),
      h('td', { class: 'num' }, String(d.out_by_state[s] || 0))))),
  ];
}

// ---------------------------------------------------------------- router

const ROUTES = [
  { re: /^#\/inbox$/, nav: 'inbox', view: () => inboxView() },
  { re: /^#\/cases$/, nav: 'cases', view: () => casesView() },
  { re: /^#\/case\/([^/]+)\/meetings$/, nav: 'cases', view: (m) => meetingsView(decodeURIComponent(m[1])) },
  { re: /^#\/case\/([^/]+)$/, nav: 'cases', view: (m) => caseView(decodeURIComponent(m[1])) },
  { re: /^#\/dashboard$/, nav: 'dashboard', view: () => dashboardView() },
];

let renderSeq = 0;

async function render() {
  const seq = ++renderSeq;
  const hash = location.hash || '#/inbox';
  const route = ROUTES.find((r) => r.re.test(hash)) || ROUTES[0];
  const match = hash.match(route.re) || [];
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.dataset.nav === route.nav);
  }
  const main = document.getElementById('main');
  let content;
  try {
    content = await route.view(match);
  } catch (e) {
    content = errorBox(e);
  }
  if (seq !== renderSeq) return;  // a later render owns the page
  main.replaceChildren(...[content].flat().filter(Boolean));
}

function drawChrome() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('title');
  document.getElementById('app-title').textContent = t('title');
  document.getElementById('node-picker-label').textContent = t('node');
  document.getElementById('lang-toggle').textContent = STRINGS[lang].langButton;
  document.getElementById('footer').textContent = t('footer');
  const nav = document.getElementById('nav');
  nav.replaceChildren(
    h('a', { href: '#/inbox', 'data-nav': 'inbox' }, t('inbox')),
    h('a', { href: '#/cases', 'data-nav': 'cases' }, t('cases')),
    h('a', { href: '#/dashboard', 'data-nav': 'dashboard' }, t('dashboard')));
  const picker = document.getElementById('node-picker');
  const chosen = picker.value || localStorage.getItem(NODE_KEY);
  picker.replaceChildren(...nodes.map((n) => h('option', { value: n.name }, nodeName(n.name))));
  if (nodes.some((n) => n.name === chosen)) picker.value = chosen;
}

async function start() {
  try {
    [vocabulary, { nodes }] = await Promise.all([apiJson('/api/v1/vocabulary'), apiJson('/api/v1/nodes')]);
  } catch (e) {
    document.getElementById('main').replaceChildren(errorBox(e));
    return;
  }
  drawChrome();
  const picker = document.getElementById('node-picker');
  localStorage.setItem(NODE_KEY, picker.value);
  picker.addEventListener('change', () => {
    localStorage.setItem(NODE_KEY, picker.value);
    flash('');
    render();
  });
  document.getElementById('lang-toggle').addEventListener('click', () => {
    lang = lang === 'zh' ? 'en' : 'zh';
    localStorage.setItem(LANG_KEY, lang);
    drawChrome();
    render();
  });
  window.addEventListener('hashchange', () => { flash(''); render(); });
  await render();
}

start();
