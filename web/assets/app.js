// m7import's page: a thin view over the JSON API under /api/ (issue 12).
// No framework, no build step. Every state-changing request carries the
// token from <meta name="m7-token"> as X-M7-Token.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const meta = (n) => (document.querySelector('meta[name="' + n + '"]') || {}).content || '';
  const token = meta('m7-token');
  const maxUpload = Number(meta('m7-max-upload')) || 0;
  const canImport = meta('m7-can-import') === 'true';
  const lang = /^zh/i.test(navigator.language || '') ? 'zh' : 'en';

  const T = {
    en: {
      title: 'Import leads', views: 'Views', steps: 'Steps', tabImport: 'Import', tabHistory: 'History',
      stepFile: 'File', stepDetected: 'Detected', stepCheck: 'Check', stepTask: 'Task', stepProgress: 'Import', stepSummary: 'Summary',
      fileTitle: 'Choose a spreadsheet', dropMain: 'Drop a CSV, TSV or XLSX file here, or click to pick one',
      sizeHint: 'Up to {size}', uploading: 'Uploading {name}…', tooBig: '{name} is larger than the {size} limit.',
      detectedTitle: 'What we found', factFile: 'File', factFormat: 'Format', factEncoding: 'Encoding', factSize: 'Size', sheet: 'Sheet',
      mappingLegend: 'Which column holds each field', fieldNumber: 'Phone number', fieldName: 'Name', fieldRemark: 'Remark', fieldAgent: 'Agent number',
      none: '— none —', column: 'column {n}', previewTitle: 'First rows',
      checkTitle: 'Check', checking: 'Checking every row…', checked: 'Checked.',
      rows: 'rows', valid: 'valid', invalid: 'invalid', duplicate: 'duplicate',
      maxInvalid: 'Refuse the file when invalid rows exceed', maxInvalidHint: 'a count like 50 or a share like 5%; empty means off', off: 'off',
      maxInvalidBad: 'Write a count like 50 or a share like 5%.', maxInvalidOver: 'This file has {n} invalid rows: more than the limit, so the import would be refused.',
      problemsTitle: 'Rows that will not be imported', problemsNone: 'Every row is fine.',
      colRow: 'Row', colName: 'Name', colNumber: 'Number', colStatus: 'Status', colReason: 'Reason',
      prev: 'Previous', next: 'Next', pageInfo: '{from}–{to} of {total}', toTask: 'Continue: choose the task',
      taskTitle: 'Choose the task', noApi: 'This server only checks files: it has no 7moor account configured.',
      taskSearch: 'Search tasks', taskPick: 'Task (current numbers)', taskNumbers: '{name} — {n} numbers', taskNone: 'No task matches.',
      taskNewTitle: 'Or create a task', taskNewName: 'Name', taskNewAgents: 'Agent numbers (comma-separated)', taskNewDescription: 'Description',
      taskCreate: 'Create task', taskCreated: 'Created task {name}.',
      ruleLegend: 'Numbers the task may already have',
      rule1: 'Skip a number this task already has (recommended)', rule0: 'Skip a number any task of the account already has',
      rule2: 'Import every row, even numbers the task already has',
      ruleFile: 'Whatever you choose, a number twice in this file is imported once: later copies are reported as duplicates (except with the last choice).',
      start: 'Start the import', force: 'Import anyway',
      progressTitle: 'Importing', pSent: 'Rows sent', pBatches: 'Batches', pRetries: 'Retries', pRate: 'Rate', pLeft: 'Time left',
      rate: '{n} rows/s', cancel: 'Cancel', cancelling: 'Cancelling: batches in flight finish first…', reconnecting: 'Connection lost, reconnecting…',
      summaryTitle: 'Done', dlReport: 'Results report (CSV)', dlReportXlsx: 'Results report (XLSX)',
      dlAttention: 'Rows that need attention (XLSX)', dlAttentionCsv: 'Rows that need attention (CSV)',
      attentionHint: 'Fix those rows in Excel or WPS and drop the file here again: only they are imported.',
      again: 'Import another file', imported: 'imported', failed: 'failed', unconfirmed: 'unconfirmed', skipped: 'skipped',
      stateDone: 'done', stateRunning: 'running', stateFailed: 'failed', stateCancelled: 'cancelled', stateRolledBack: 'rolled back',
      exit3: 'Some rows were not imported: see the rows that need attention.',
      historyTitle: 'Past imports', hWhen: 'When', hFile: 'File', hTask: 'Task', hState: 'State', hCounts: 'Imported / rows', hFiles: 'Reports', hActions: 'Actions',
      historyEmpty: 'No imports yet.', rollback: 'Roll back', rollbackTitle: 'Roll back this import?',
      rollbackText: 'This deletes from task {task} the {n} numbers this import added. Numbers the task had before stay.',
      rollbackForce: 'Roll back anyway', rolledBack: 'Rolled back: {n} numbers deleted.', no: 'Cancel',
      report: 'report', attention: 'attention', foot: 'm7import runs on this computer; the file never leaves it except to 7moor.',
      error: 'Error'
    },
    zh: {
      title: '导入号码', views: '视图', steps: '步骤', tabImport: '导入', tabHistory: '历史',
      stepFile: '文件', stepDetected: '识别', stepCheck: '检查', stepTask: '任务', stepProgress: '导入', stepSummary: '结果',
      fileTitle: '选择表格文件', dropMain: '把 CSV、TSV 或 XLSX 文件拖到这里，或点击选择',
      sizeHint: '最大 {size}', uploading: '正在上传 {name}…', tooBig: '{name} 超过了 {size} 的上限。',
      detectedTitle: '识别结果', factFile: '文件', factFormat: '格式', factEncoding: '编码', factSize: '大小', sheet: '工作表',
      mappingLegend: '每个字段对应的列', fieldNumber: '电话号码', fieldName: '姓名', fieldRemark: '备注', fieldAgent: '座席工号',
      none: '— 无 —', column: '第 {n} 列', previewTitle: '前几行',
      checkTitle: '检查', checking: '正在检查每一行…', checked: '检查完成。',
      rows: '行', valid: '有效', invalid: '无效', duplicate: '重复',
      maxInvalid: '无效行超过此数时拒绝导入', maxInvalidHint: '填数量如 50，或比例如 5%；留空表示不限', off: '不限',
      maxInvalidBad: '请填写数量（如 50）或比例（如 5%）。', maxInvalidOver: '此文件有 {n} 行无效，超过上限，导入会被拒绝。',
      problemsTitle: '不会导入的行', problemsNone: '所有行都没有问题。',
      colRow: '行号', colName: '姓名', colNumber: '号码', colStatus: '状态', colReason: '原因',
      prev: '上一页', next: '下一页', pageInfo: '第 {from}–{to} 条，共 {total} 条', toTask: '继续：选择任务',
      taskTitle: '选择任务', noApi: '此服务器只能检查文件：没有配置 7moor 账户。',
      taskSearch: '搜索任务', taskPick: '任务（当前号码数）', taskNumbers: '{name} — {n} 个号码', taskNone: '没有匹配的任务。',
      taskNewTitle: '或新建任务', taskNewName: '名称', taskNewAgents: '座席工号（用逗号分隔）', taskNewDescription: '描述',
      taskCreate: '新建任务', taskCreated: '已新建任务 {name}。',
      ruleLegend: '任务里可能已有的号码',
      rule1: '跳过本任务已有的号码（推荐）', rule0: '跳过账户里任一任务已有的号码', rule2: '全部导入，即使任务里已有该号码',
      ruleFile: '无论选择哪项，文件里重复出现的号码只导入一次，后面的记为重复（最后一项除外）。',
      start: '开始导入', force: '仍然导入',
      progressTitle: '正在导入', pSent: '已发送行数', pBatches: '批次', pRetries: '重试', pRate: '速度', pLeft: '剩余时间',
      rate: '每秒 {n} 行', cancel: '取消', cancelling: '正在取消：等待已发出的批次完成…', reconnecting: '连接中断，正在重连…',
      summaryTitle: '完成', dlReport: '结果报告（CSV）', dlReportXlsx: '结果报告（XLSX）',
      dlAttention: '需要处理的行（XLSX）', dlAttentionCsv: '需要处理的行（CSV）',
      attentionHint: '在 Excel 或 WPS 里改好这些行，再把文件拖进来：只会导入这些行。',
      again: '导入另一个文件', imported: '已导入', failed: '失败', unconfirmed: '未确认', skipped: '跳过',
      stateDone: '完成', stateRunning: '进行中', stateFailed: '失败', stateCancelled: '已取消', stateRolledBack: '已回滚',
      exit3: '有些行没有导入：请查看需要处理的行。',
      historyTitle: '导入历史', hWhen: '时间', hFile: '文件', hTask: '任务', hState: '状态', hCounts: '已导入 / 总行数', hFiles: '报告', hActions: '操作',
      historyEmpty: '还没有导入记录。', rollback: '回滚', rollbackTitle: '回滚这次导入？',
      rollbackText: '将从任务 {task} 删除这次导入的 {n} 个号码。任务原有的号码保留。',
      rollbackForce: '仍然回滚', rolledBack: '已回滚：删除了 {n} 个号码。', no: '取消',
      report: '报告', attention: '待处理', foot: 'm7import 在本机运行；文件只会发送到 7moor。',
      error: '错误'
    }
  };
  const t = (key, args) => {
    let s = (T[lang] && T[lang][key]) || T.en[key] || key;
    if (args) for (const k in args) s = s.split('{' + k + '}').join(String(args[k]));
    return s;
  };
  const fmt = new Intl.NumberFormat(lang === 'zh' ? 'zh-CN' : 'en');
  const n = (v) => fmt.format(Number(v) || 0);

  function translate() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.title = 'm7import · ' + t('title');
    document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll('[data-i18n-attr]').forEach((el) => {
      const [attr, key] = el.dataset.i18nAttr.split(':');
      el.setAttribute(attr, t(key));
    });
  }

  // api sends one request and returns the decoded JSON; it throws an Error
  // carrying the server's {error, field} and the status.
  async function api(method, path, body, signal) {
    const headers = { 'X-M7-Token': token, 'Accept-Language': lang === 'zh' ? 'zh-CN,zh;q=0.9' : 'en' };
    const init = { method, headers, signal, credentials: 'same-origin' };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) { headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    const res = await fetch(path, init);
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: text }; }
    if (!res.ok) {
      const err = new Error((data && data.error) || res.status + ' ' + res.statusText);
      err.status = res.status; err.field = data && data.field; err.body = data;
      throw err;
    }
    return data;
  }

  function showError(err) {
    const a = $('alert');
    if (!err) { a.hidden = true; a.textContent = ''; return; }
    a.textContent = t('error') + ': ' + (err.message || String(err));
    a.hidden = false;
  }

  function sizeText(b) {
    if (b >= 1 << 20) return (b / (1 << 20)).toFixed(b % (1 << 20) ? 1 : 0) + ' MB';
    if (b >= 1024) return Math.round(b / 1024) + ' KB';
    return b + ' B';
  }

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'class') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    for (const kid of kids) if (kid != null) e.append(kid);
    return e;
  }

  // ---- state ----------------------------------------------------------
  const state = { file: null, mapping: {}, sheet: '', check: null, offset: 0, limit: 50, task: null, importId: null, es: null, checkAbort: null };
  const FIELDS = ['number', 'name', 'remark', 'agentNumber'];

  // reach shows the screens up to step: the file, detected, check and task
  // screens stack up (the check shows with what was detected, no click
  // needed); the import and its summary stand alone.
  function reach(step) {
    const order = ['file', 'detected', 'check', 'task', 'progress', 'summary'];
    const at = order.indexOf(step) + (step === 'detected' ? 1 : 0);
    order.forEach((s, i) => {
      $('step-' + s).hidden = at <= 3 ? i > at : i !== at;
      const li = document.querySelector('.stepper [data-step="' + s + '"]');
      li.classList.toggle('done', i < at);
      li.classList.toggle('current', i === at);
      if (i === at) li.setAttribute('aria-current', 'step'); else li.removeAttribute('aria-current');
    });
    const sec = $('step-' + step);
    if (step !== 'file' && sec.scrollIntoView) sec.scrollIntoView({ block: 'start', behavior: 'smooth' });
  }

  // ---- 1. file ----------------------------------------------------------
  function initFile() {
    $('size-hint').textContent = maxUpload ? t('sizeHint', { size: sizeText(maxUpload) }) : '';
    const input = $('file-input');
    input.addEventListener('change', () => { if (input.files && input.files[0]) upload(input.files[0]); });
    const drop = $('drop');
    ['dragenter', 'dragover'].forEach((ev) => drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('over'); }));
    ['dragleave', 'drop'].forEach((ev) => drop.addEventListener(ev, () => drop.classList.remove('over')));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      const f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
      if (f) upload(f);
    });
  }

  async function upload(file) {
    showError(null);
    if (maxUpload && file.size > maxUpload) {
      showError(new Error(t('tooBig', { name: file.name, size: sizeText(maxUpload) })));
      return;
    }
    $('upload-status').textContent = t('uploading', { name: file.name });
    const fd = new FormData();
    fd.append('file', file, file.name);
    try {
      const info = await api('POST', '/api/files', fd);
      $('upload-status').textContent = '';
      showFile(info);
    } catch (err) {
      $('upload-status').textContent = '';
      showError(err);
    } finally {
      $('file-input').value = '';
    }
  }

  // ---- 2. detected --------------------------------------------------------
  function columnValue(headers, i) {
    const h = headers[i];
    const dup = headers.indexOf(h) !== i;
    return !h || dup ? 'column ' + (i + 1) : h;
  }

  function showFile(info) {
    state.file = info;
    state.sheet = info.sheet || '';
    state.mapping = Object.assign({}, info.mapping);
    $('fact-name').textContent = info.name;
    $('fact-format').textContent = (info.format || '').toUpperCase();
    $('fact-encoding').textContent = info.encoding || '—';
    $('fact-size').textContent = sizeText(info.size);
    const sheets = info.sheets || [];
    $('sheet-field').hidden = sheets.length < 2;
    const ss = $('sheet-select');
    ss.replaceChildren(...sheets.map((s) => el('option', { value: s, text: s })));
    ss.value = state.sheet;
    const headers = info.headers || [];
    for (const f of FIELDS) {
      const sel = $('mapping-' + f);
      const opts = [el('option', { value: '', text: t('none') })];
      headers.forEach((h, i) => opts.push(el('option', { value: columnValue(headers, i), text: h ? h : t('column', { n: i + 1 }) })));
      sel.replaceChildren(...opts);
      sel.value = state.mapping[f] || '';
      if (sel.value !== (state.mapping[f] || '')) sel.value = '';
    }
    renderPreview();
    reach('detected');
    runCheck(0);
  }

  function renderPreview() {
    const info = state.file;
    const headers = info.headers || [];
    const mapped = {};
    for (const f of FIELDS) if (state.mapping[f]) mapped[state.mapping[f]] = f;
    const head = el('tr', null, ...headers.map((h, i) => {
      const f = mapped[columnValue(headers, i)];
      return el('th', { scope: 'col', class: f ? 'mapped' : '' }, h || t('column', { n: i + 1 }),
        f ? el('span', { class: 'tag', text: t({ number: 'fieldNumber', name: 'fieldName', remark: 'fieldRemark', agentNumber: 'fieldAgent' }[f]) }) : null);
    }));
    const body = (info.preview || []).map((row) => el('tr', null, ...headers.map((h, i) => el('td', { text: row[i] || '' }))));
    $('preview').replaceChildren(el('thead', null, head), el('tbody', null, ...body));
  }

  function initDetected() {
    for (const f of FIELDS) {
      $('mapping-' + f).addEventListener('change', (e) => {
        state.mapping[f] = e.target.value;
        renderPreview();
        runCheck(0);
      });
    }
    $('sheet-select').addEventListener('change', async (e) => {
      showError(null);
      try {
        const info = await api('GET', '/api/files/' + encodeURIComponent(state.file.id) + '?sheet=' + encodeURIComponent(e.target.value));
        info.sheet = e.target.value;
        showFile(info);
      } catch (err) { showError(err); }
    });
  }

  // ---- 3. check -------------------------------------------------------------
  function rule() {
    const r = document.querySelector('input[name="rule"]:checked');
    return r ? Number(r.value) : 1;
  }

  async function runCheck(offset) {
    if (!state.file) return;
    if (state.checkAbort) state.checkAbort.abort();
    const ctl = new AbortController();
    state.checkAbort = ctl;
    showError(null);
    $('check-status').textContent = t('checking');
    $('check-counts').setAttribute('aria-busy', 'true');
    try {
      const q = '?offset=' + offset + '&limit=' + state.limit;
      const res = await api('POST', '/api/files/' + encodeURIComponent(state.file.id) + '/check' + q,
        { sheet: state.sheet, mapping: state.mapping, rule: rule() }, ctl.signal);
      if (ctl !== state.checkAbort) return;
      state.check = res;
      state.offset = offset;
      $('check-status').textContent = t('checked');
      renderCheck();
    } catch (err) {
      if (err.name === 'AbortError') return;
      $('check-status').textContent = '';
      state.check = null;
      $('check-counts').replaceChildren();
      $('problems').tBodies[0].replaceChildren();
      showError(err);
    } finally {
      if (ctl === state.checkAbort) $('check-counts').removeAttribute('aria-busy');
    }
  }

  function count(cls, value, label) {
    return el('div', { class: 'count ' + cls, 'data-count': cls }, el('span', { class: 'value', text: n(value) }), el('span', { class: 'label', text: label }));
  }

  function renderCheck() {
    const c = state.check;
    $('check-counts').replaceChildren(
      count('rows', c.rows, t('rows')), count('valid', c.valid, t('valid')),
      count('invalid', c.invalid, t('invalid')), count('duplicate', c.duplicate, t('duplicate')));
    const rows = (c.problems || []).map((p) => el('tr', { class: 'st-' + p.status },
      el('td', { class: 'rownum', text: String(p.row) }), el('td', { text: p.name }), el('td', { class: 'mono', text: p.number }),
      el('td', null, el('span', { class: 'badge ' + p.status, text: t(p.status) })), el('td', { text: p.reason })));
    $('problems').tBodies[0].replaceChildren(...rows);
    $('problems-empty').hidden = c.problems_total > 0;
    $('problems').hidden = c.problems_total === 0;
    $('pager').hidden = c.problems_total <= state.limit;
    $('page-info').textContent = t('pageInfo', { from: n(state.offset + 1), to: n(Math.min(state.offset + state.limit, c.problems_total)), total: n(c.problems_total) });
    $('page-prev').disabled = state.offset === 0;
    $('page-next').disabled = state.offset + state.limit >= c.problems_total;
    checkMaxInvalid();
  }

  // maxInvalid reads the setting as the server takes it: "" (off), a count
  // or a percentage. The server decides; this only warns early.
  function maxInvalid() {
    const v = $('max-invalid').value.trim();
    if (!v) return { ok: true, value: '' };
    if (/^\d+$/.test(v)) return { ok: true, value: v, over: (c) => c.invalid > Number(v) };
    if (/^\d+(\.\d+)?%$/.test(v)) return { ok: true, value: v, over: (c) => c.rows > 0 && c.invalid * 100 > parseFloat(v) * c.rows };
    return { ok: false };
  }

  function checkMaxInvalid() {
    const m = maxInvalid();
    const w = $('max-invalid-warn');
    if (!m.ok) { w.textContent = t('maxInvalidBad'); w.hidden = false; return; }
    if (state.check && m.over && m.over(state.check)) { w.textContent = t('maxInvalidOver', { n: n(state.check.invalid) }); w.hidden = false; return; }
    w.hidden = true;
  }

  function initCheck() {
    $('page-prev').addEventListener('click', () => runCheck(Math.max(0, state.offset - state.limit)));
    $('page-next').addEventListener('click', () => runCheck(state.offset + state.limit));
    $('max-invalid').addEventListener('input', checkMaxInvalid);
    $('to-task').addEventListener('click', () => { reach('task'); loadTasks(); $('task-search').focus(); });
  }

  // ---- 4. task ---------------------------------------------------------------
  let searchTimer = 0;
  async function loadTasks() {
    if (!canImport) { $('no-api').hidden = false; return; }
    try {
      const list = await api('GET', '/api/tasks?name=' + encodeURIComponent($('task-search').value.trim()));
      const sel = $('task-select');
      const keep = state.task && state.task.id;
      sel.replaceChildren(...list.map((tk) => el('option', { value: tk.id, text: t('taskNumbers', { name: tk.name, n: n(tk.number_total) }) })));
      if (!list.length) sel.append(el('option', { value: '', disabled: 'disabled', text: t('taskNone') }));
      sel._tasks = list;
      if (keep && list.some((tk) => tk.id === keep)) sel.value = keep;
      pickTask();
    } catch (err) { showError(err); }
  }

  function pickTask() {
    const sel = $('task-select');
    const tk = (sel._tasks || []).find((x) => x.id === sel.value);
    state.task = tk || null;
    $('start-import').disabled = !state.task || !state.file || !canImport;
  }

  function initTask() {
    $('task-search').addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(loadTasks, 250); });
    $('task-select').addEventListener('change', pickTask);
    $('task-new').addEventListener('submit', async (e) => {
      e.preventDefault();
      showError(null);
      const name = $('task-new-name').value.trim();
      const agents = $('task-new-agents').value.split(/[,，\s]+/).map((s) => s.trim()).filter(Boolean);
      try {
        const tk = await api('POST', '/api/tasks', { name, agents, description: $('task-new-description').value.trim() });
        state.task = tk;
        $('task-search').value = '';
        $('task-new-name').value = '';
        await loadTasks();
        $('task-select').value = tk.id;
        pickTask();
        $('upload-status').textContent = '';
        $('check-status').textContent = t('taskCreated', { name: tk.name });
      } catch (err) { showError(err); }
    });
    document.querySelectorAll('input[name="rule"]').forEach((r) => r.addEventListener('change', () => runCheck(0)));
    $('start-import').addEventListener('click', () => startImport(false));
  }

  // ---- 5. import and progress -----------------------------------------------
  async function startImport(force) {
    const m = maxInvalid();
    if (!m.ok) { showError(new Error(t('maxInvalidBad'))); return; }
    showError(null);
    $('start-import').disabled = true;
    try {
      const res = await api('POST', '/api/imports', {
        file_id: state.file.id, task_id: state.task.id, rule: rule(), sheet: state.sheet,
        mapping: state.mapping, max_invalid: m.value, force: !!force
      });
      follow(res.id);
    } catch (err) {
      $('start-import').disabled = false;
      showError(err);
      if (err.status === 409 && err.body && err.body.import_id) offerForce();
    }
  }

  function offerForce() {
    const a = $('alert');
    const b = el('button', { type: 'button', class: 'danger', text: t('force') });
    b.addEventListener('click', () => startImport(true));
    a.append(' ', b);
  }

  function follow(id) {
    state.importId = id;
    reach('progress');
    $('cancel-import').disabled = false;
    setProgress({});
    if (state.es) state.es.close();
    const es = new EventSource('/api/imports/' + encodeURIComponent(id) + '/events');
    state.es = es;
    es.addEventListener('progress', (e) => { $('alert').hidden = true; setProgress(JSON.parse(e.data)); });
    es.addEventListener('done', (e) => { es.close(); state.es = null; showSummary(JSON.parse(e.data)); });
    es.onerror = () => { if (es.readyState !== EventSource.CLOSED) { $('alert').textContent = t('reconnecting'); $('alert').hidden = false; } };
  }

  // setProgress shows one progress event: {read, valid, sent, batches,
  // retries, rate, eta_seconds, elapsed_ms}.
  function setProgress(p) {
    const sent = p.sent || 0;
    const total = p.valid || 0;
    const bar = $('progress-bar');
    bar.max = Math.max(total, 1);
    bar.value = Math.min(sent, bar.max);
    $('p-sent').textContent = total ? n(sent) + ' / ' + n(total) : n(sent);
    $('p-batches').textContent = n(p.batches);
    $('p-retries').textContent = n(p.retries);
    let rate = p.rate;
    if (rate == null && p.elapsed_ms > 0) rate = sent / (p.elapsed_ms / 1000);
    $('p-rate').textContent = rate ? t('rate', { n: n(Math.round(rate)) }) : '–';
    let eta = p.eta_seconds;
    if (eta == null && rate > 0 && total) eta = (total - sent) / rate;
    $('p-left').textContent = eta != null && eta >= 0 ? duration(eta) : '–';
  }

  function duration(s) {
    s = Math.round(s);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const pad = (x) => String(x).padStart(2, '0');
    return h ? h + ':' + pad(m) + ':' + pad(sec) : m + ':' + pad(sec);
  }

  function initProgress() {
    $('cancel-import').addEventListener('click', async () => {
      $('cancel-import').disabled = true;
      $('alert').textContent = t('cancelling'); $('alert').hidden = false;
      try { await api('POST', '/api/imports/' + encodeURIComponent(state.importId) + '/cancel'); } catch (err) { showError(err); $('cancel-import').disabled = false; }
    });
  }

  // ---- 6. summary ------------------------------------------------------------
  function reportURL(id, kind, format) {
    return '/api/imports/' + encodeURIComponent(id) + '/' + kind + '?format=' + format;
  }

  function showSummary(s) {
    reach('summary');
    $('alert').hidden = true;
    const parts = [count('rows', s.rows, t('rows')), count('imported', s.imported, t('imported')),
      count('invalid', s.invalid, t('invalid')), count('duplicate', s.duplicate, t('duplicate'))];
    for (const k of ['failed', 'unconfirmed', 'skipped']) if (s[k]) parts.push(count(k, s[k], t(k)));
    $('summary').replaceChildren(...parts);
    $('summary').dataset.state = s.state || '';
    const note = [t('state' + cap(s.state || 'done'))];
    if (s.exit_code === 3) note.push(t('exit3'));
    if (s.error) note.push(s.error);
    $('summary-note').textContent = note.join(' · ');
    const id = s.id || state.importId;
    $('download-report').href = reportURL(id, 'report', 'csv');
    $('download-report-xlsx').href = reportURL(id, 'report', 'xlsx');
    $('download-attention').href = reportURL(id, 'attention', 'xlsx');
    $('download-attention-csv').href = reportURL(id, 'attention', 'csv');
  }

  function cap(s) { return s ? s.replace(/_(.)/g, (m, c) => c.toUpperCase()).replace(/^./, (c) => c.toUpperCase()) : s; }

  function initSummary() {
    $('again').addEventListener('click', () => {
      state.file = null; state.check = null; state.importId = null;
      $('problems').tBodies[0].replaceChildren(); $('check-counts').replaceChildren();
      reach('file');
      $('file-input').focus();
    });
  }

  // ---- history ----------------------------------------------------------------
  async function loadHistory() {
    $('history-status').textContent = '';
    try {
      const list = await api('GET', '/api/imports');
      const rows = list.map((im) => {
        const when = im.started_at ? new Date(im.started_at).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en') : '';
        const links = el('td', { class: 'links' },
          el('a', { href: reportURL(im.id, 'report', 'csv'), download: '', text: 'CSV' }), ' ',
          el('a', { href: reportURL(im.id, 'report', 'xlsx'), download: '', text: 'XLSX' }), ' ',
          el('a', { href: reportURL(im.id, 'attention', 'xlsx'), download: '', text: t('attention') }));
        const act = el('td');
        if (im.state === 'running') {
          const b = el('button', { type: 'button', text: t('stepProgress') });
          b.addEventListener('click', () => { showView('import'); follow(im.id); });
          act.append(b);
        } else if (im.imported > 0 && !im.rolled_back) {
          const b = el('button', { type: 'button', class: 'danger', 'data-testid': 'rollback', text: t('rollback') });
          b.addEventListener('click', () => rollback(im, false));
          act.append(b);
        }
        const st = im.rolled_back ? 'rolledBack' : im.state;
        return el('tr', { 'data-import': im.id },
          el('td', { text: when }), el('td', { text: im.file || '' }), el('td', { text: im.task_name || im.task_id || '' }),
          el('td', null, el('span', { class: 'badge ' + (im.state || ''), text: t('state' + cap(st || 'done')) })),
          el('td', { class: 'rownum', text: n(im.imported) + ' / ' + n(im.rows) }), links, act);
      });
      $('history').tBodies[0].replaceChildren(...rows);
      if (!list.length) $('history-status').textContent = t('historyEmpty');
    } catch (err) { showError(err); }
  }

  function confirmDialog(title, text, ok) {
    return new Promise((resolve) => {
      const d = $('confirm');
      $('confirm-title').textContent = title;
      $('confirm-text').textContent = text;
      $('confirm-ok').textContent = ok;
      d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
      d.showModal();
    });
  }

  async function rollback(im, force) {
    const yes = await confirmDialog(t('rollbackTitle'), t('rollbackText', { task: im.task_name || im.task_id, n: n(im.imported) }),
      force ? t('rollbackForce') : t('rollback'));
    if (!yes) return;
    showError(null);
    try {
      const res = await api('POST', '/api/imports/' + encodeURIComponent(im.id) + '/rollback', { force: !!force });
      $('history-status').textContent = t('rolledBack', { n: n(res && res.deleted) });
      loadHistory();
    } catch (err) {
      showError(err);
      if (err.status === 409 && !force) {
        const b = el('button', { type: 'button', class: 'danger', text: t('rollbackForce') });
        b.addEventListener('click', () => rollback(im, true));
        $('alert').append(' ', b);
      }
    }
  }

  function showView(v) {
    $('view-import').hidden = v !== 'import';
    $('view-history').hidden = v !== 'history';
    $('tab-import').setAttribute('aria-pressed', String(v === 'import'));
    $('tab-history').setAttribute('aria-pressed', String(v === 'history'));
    if (v === 'history') loadHistory();
  }

  // resume picks up an import still running (a page refresh during one).
  async function resume() {
    if (!canImport) return;
    try {
      const list = await api('GET', '/api/imports');
      const running = list.find((im) => im.state === 'running');
      if (running) follow(running.id);
    } catch (err) { /* the history is optional for the first screen */ }
  }

  document.addEventListener('DOMContentLoaded', () => {
    translate();
    initFile(); initDetected(); initCheck(); initTask(); initProgress(); initSummary();
    $('tab-import').addEventListener('click', () => showView('import'));
    $('tab-history').addEventListener('click', () => showView('history'));
    reach('file');
    resume();
  });
})();
