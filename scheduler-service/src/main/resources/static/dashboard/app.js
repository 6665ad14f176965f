// The dashboard: task list, task page with live progress, workers. Plain JavaScript, no build step.
// Every call of the API carries the bearer token the user typed (kept in sessionStorage). Everything
// the server sends (items, outputs, errors) is put on the page as text, never parsed as HTML.
'use strict';

(() => {
  const TOKEN_KEY = 'dts.token';
  const REFRESH_KEY = 'dts.autoRefresh';
  // Every TaskStatus, in the order a task goes through them.
  const STATUSES = ['QUEUED', 'RETRYING', 'SUBMITTED', 'INPROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED', 'SUBMISSION_FAILED'];
  const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'SUBMISSION_FAILED']);
  const REFRESH_MS = 2000;
  const POLL_MS = 1000;
  const RESULTS_LIMIT = 50;

  const $ = (id) => document.getElementById(id);

  /** An answer of the API other than 2xx; {@code detail} is the problem's, for a person. */
  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
      this.detail = detail;
    }
  }

  // ---------------------------------------------------------------- state of the current view

  let view = { generation: 0, controller: new AbortController(), timers: [] };
  let shownSection = null;
  let countsAvailable = true;
  let errorSource = null;

  /** Ends what the previous view left running (timers, streams, requests) and starts a new one. */
  function beginView(sectionId, title) {
    view.controller.abort();
    view.timers.forEach(clearTimeout);
    view = { generation: view.generation + 1, controller: new AbortController(), timers: [] };
    for (const section of document.querySelectorAll('main > section')) {
      section.hidden = section.id !== sectionId;
    }
    const changed = shownSection !== sectionId;
    shownSection = sectionId;
    $('session').hidden = sectionId === 'login-view';
    $('main-nav').hidden = sectionId === 'login-view';
    markCurrent($('nav-tasks'), sectionId === 'list-view' || sectionId === 'task-view');
    markCurrent($('nav-workers'), sectionId === 'workers-view');
    document.title = title + ' · Task scheduler';
    clearError();
    const generation = view.generation;
    return { changed, current: () => generation === view.generation };
  }

  function markCurrent(link, current) {
    if (current) {
      link.setAttribute('aria-current', 'page');
    } else {
      link.removeAttribute('aria-current');
    }
  }

  /** Runs {@code task} every {@code ms} while the view lasts, never two at once. */
  function every(ms, task) {
    const generation = view.generation;
    const tick = async () => {
      if (generation !== view.generation) {
        return;
      }
      try {
        await task();
      } catch (error) {
        handle(error, 'refresh');
      }
      if (generation === view.generation) {
        view.timers.push(setTimeout(tick, ms));
      }
    };
    view.timers.push(setTimeout(tick, ms));
  }

  function autoRefresh() {
    return $('auto-refresh').checked;
  }

  // ---------------------------------------------------------------- errors

  function showError(message, source) {
    errorSource = source || 'action';
    $('error').textContent = message;
    $('error').hidden = false;
  }

  function clearError(source) {
    if (source && source !== errorSource) {
      return;
    }
    errorSource = null;
    $('error').textContent = '';
    $('error').hidden = true;
  }

  /** What to do with an error of any call: a refused token asks for another one; an abort is no error. */
  function handle(error, source) {
    if (error && error.name === 'AbortError') {
      return;
    }
    if (error instanceof ApiError && error.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin(error.detail);
      return;
    }
    const message = error instanceof ApiError ? error.detail
      : 'The scheduler cannot be reached (' + (error && error.message ? error.message : error) + ').';
    showError(message, source);
  }

  // ---------------------------------------------------------------- the API

  /** The problem's detail (RFC 9457), else its title, else the status line. */
  async function problemDetail(response) {
    try {
      const text = await response.text();
      try {
        const problem = JSON.parse(text);
        if (problem && typeof problem.detail === 'string' && problem.detail) {
          return problem.detail;
        }
        if (problem && typeof problem.title === 'string' && problem.title) {
          return problem.title + ' (HTTP ' + response.status + ')';
        }
      } catch (notJson) {
        // fall through to the status line
      }
    } catch (unreadable) {
      // fall through to the status line
    }
    return 'The scheduler answered HTTP ' + response.status + (response.statusText ? ' ' + response.statusText : '') + '.';
  }

  /** A call with the token; answers other than 2xx become an ApiError. */
  async function api(url, options) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) {
      throw new ApiError(401, 'Sign in with a token.');
    }
    const init = Object.assign({ cache: 'no-store', credentials: 'omit', signal: view.controller.signal }, options || {});
    const headers = new Headers(init.headers || {});
    headers.set('Authorization', 'Bearer ' + token);
    if (!headers.has('Accept')) {
      headers.set('Accept', 'application/json');
    }
    init.headers = headers;
    const response = await fetch(url, init);
    if (!response.ok) {
      throw new ApiError(response.status, await problemDetail(response));
    }
    return response;
  }

  async function apiJson(url, options) {
    return (await api(url, options)).json();
  }

  /** The rel="next" target of a Link header, taken as it is, and only when it is on this server (it gets the token). */
  function nextLink(response) {
    const header = response.headers.get('Link');
    if (!header) {
      return null;
    }
    for (const part of header.split(',')) {
      const match = /<([^>]*)>\s*;(.*)$/.exec(part.trim());
      if (match && /(^|;)\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(match[2])) {
        const target = new URL(match[1], location.href);
        return target.origin === location.origin ? target.href : null;
      }
    }
    return null;
  }

  // ---------------------------------------------------------------- small helpers to build the page

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) {
        continue;
      }
      if (name === 'text') {
        node.textContent = String(value);
      } else if (name === 'className') {
        node.className = value;
      } else {
        node.setAttribute(name, value === true ? '' : String(value));
      }
    }
    for (const child of children) {
      if (child !== null && child !== undefined) {
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
      }
    }
    return node;
  }

  function setText(id, value) {
    const node = $(id);
    const text = value === null || value === undefined ? '—' : String(value);
    if (node.textContent !== text) {
      node.textContent = text;
    }
  }

  /** Milliseconds since the epoch from an ISO string, epoch millis, or epoch seconds with a fraction. */
  function toMillis(value) {
    if (value === null || value === undefined || value === '') {
      return null;
    }
    if (typeof value === 'number') {
      return value < 1e11 ? value * 1000 : value;
    }
    const parsed = Date.parse(value);
    if (!Number.isNaN(parsed)) {
      return parsed;
    }
    const number = Number(value);
    return Number.isFinite(number) ? toMillis(number) : null;
  }

  function ago(millis) {
    const seconds = Math.round((Date.now() - millis) / 1000);
    if (seconds < 5) {
      return 'just now';
    }
    if (seconds < 60) {
      return seconds + ' s ago';
    }
    if (seconds < 3600) {
      return Math.floor(seconds / 60) + ' min ago';
    }
    if (seconds < 86400) {
      return Math.floor(seconds / 3600) + ' h ago';
    }
    return new Date(millis).toLocaleDateString();
  }

  function timeElement(value) {
    const millis = toMillis(value);
    if (millis === null) {
      return el('span', { className: 'muted', text: '—' });
    }
    const date = new Date(millis);
    return el('time', { datetime: date.toISOString(), title: date.toLocaleString(), text: ago(millis) });
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) {
      return null;
    }
    let rest = Math.max(0, Math.round(Number(seconds)));
    const hours = Math.floor(rest / 3600);
    rest -= hours * 3600;
    const minutes = Math.floor(rest / 60);
    const secs = rest - minutes * 60;
    if (hours > 0) {
      return hours + ' h ' + minutes + ' min';
    }
    return minutes > 0 ? minutes + ' min ' + secs + ' s' : secs + ' s';
  }

  function millisText(ms) {
    if (ms === null || ms === undefined) {
      return '—';
    }
    return ms < 1000 ? ms + ' ms' : (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  }

  function badge(status) {
    return el('span', { className: 'badge ' + (STATUSES.includes(status) ? status : ''), text: status || '?' });
  }

  function taskHash(id) {
    return '#/tasks/' + encodeURIComponent(id);
  }

  function number(value) {
    return typeof value === 'number' && Number.isFinite(value) ? value : 0;
  }

  /** Items finished (succeeded, failed or skipped), never more than the total. */
  function doneOf(task) {
    const done = number(task.itemsSucceeded) + number(task.itemsFailed) + number(task.itemsSkipped);
    return Math.min(done, number(task.itemsTotal) || done);
  }

  // ---------------------------------------------------------------- routing

  /** #/ (list, ?status=&limit=), #/tasks/<id> (?failed=1), #/workers; ?task=<id> and ?status= are taken too. */
  function parseHash() {
    const hash = location.hash.replace(/^#/, '') || '/';
    const at = hash.indexOf('?');
    return { path: at < 0 ? hash : hash.slice(0, at), params: new URLSearchParams(at < 0 ? '' : hash.slice(at + 1)) };
  }

  function route() {
    if (!sessionStorage.getItem(TOKEN_KEY)) {
      showLogin();
      return;
    }
    const { path, params } = parseHash();
    let shown;
    if (path.startsWith('/tasks/') && path.length > '/tasks/'.length) {
      shown = showTask(decodeURIComponent(path.slice('/tasks/'.length)), params);
    } else if (path === '/workers') {
      shown = showWorkers();
    } else {
      shown = showList(params);
    }
    shown.catch((error) => handle(error, 'view'));
  }

  /** Moves the focus to a view's heading when the user went to another view (not for a new filter or page). */
  function focusHeading(v, id) {
    if (!v.changed) {
      return;
    }
    const heading = $(id);
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }

  // ---------------------------------------------------------------- login

  function showLogin(message) {
    beginView('login-view', 'Sign in');
    $('login-error').textContent = message || '';
    $('login-error').hidden = !message;
    $('token').value = '';
    $('token').focus();
  }

  async function login(event) {
    event.preventDefault();
    const token = $('token').value.trim();
    if (!token) {
      return;
    }
    $('login-submit').disabled = true;
    sessionStorage.setItem(TOKEN_KEY, token);
    try {
      // Any call that needs a token tells whether this one is taken.
      await api('/api/tasks?limit=1');
      $('token').value = '';
      route();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        showLogin(error.detail);
      } else if (error instanceof ApiError) {
        // Taken, but this role may not list tasks: the views say what it may not do.
        route();
      } else {
        sessionStorage.removeItem(TOKEN_KEY);
        $('login-error').textContent = 'The scheduler cannot be reached: ' + error.message;
        $('login-error').hidden = false;
      }
    } finally {
      $('login-submit').disabled = false;
    }
  }

  function logout() {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin();
  }

  // ---------------------------------------------------------------- task list

  function listHash(status, limit) {
    const params = new URLSearchParams();
    if (status) {
      params.set('status', status);
    }
    if (limit !== 20) {
      params.set('limit', String(limit));
    }
    const query = params.toString();
    return '#/' + (query ? '?' + query : '');
  }

  function renderChips(selected, limit, counts) {
    const chips = $('chips');
    const focused = document.activeElement && chips.contains(document.activeElement)
      ? document.activeElement.dataset.status : null;
    const total = counts ? (counts.ALL ?? counts.total ?? STATUSES.reduce((sum, s) => sum + number(counts[s]), 0)) : null;
    const buttons = [['', 'All', total]].concat(STATUSES.map((s) => [s, s, counts ? number(counts[s]) : null]));
    chips.replaceChildren(...buttons.map(([status, label, count]) => {
      const chip = el('button', {
        type: 'button', className: 'chip', 'data-status': status, 'aria-pressed': String((selected || '') === status),
      }, label, count === null ? null : el('span', { className: 'count', text: count }));
      chip.addEventListener('click', () => {
        location.hash = listHash(status || null, limit);
      });
      return chip;
    }));
    if (focused !== null) {
      const again = chips.querySelector('[data-status="' + focused + '"]');
      if (again) {
        again.focus();
      }
    }
  }

  function taskRow(task) {
    const total = number(task.itemsTotal);
    const done = doneOf(task);
    const failed = number(task.itemsFailed);
    return el('tr', { 'data-task-id': task.id },
      el('td', {}, el('a', { href: taskHash(task.id) }, el('code', { text: task.id }))),
      el('td', {}, badge(task.status)),
      el('td', {}, el('progress', { max: Math.max(total, 1), value: done, 'aria-label': 'Items done of task ' + task.id }),
        el('span', { text: done + '/' + total })),
      el('td', { className: 'num' + (failed > 0 ? ' exit-bad' : ''), text: failed }),
      el('td', { className: 'wide', text: task.owner || '—' }),
      el('td', { className: 'wide' }, timeElement(task.createdAt)),
      el('td', { className: 'wide' }, timeElement(task.finishedAt)));
  }

  async function showList(params) {
    const v = beginView('list-view', 'Tasks');
    const status = STATUSES.includes(params.get('status')) ? params.get('status') : null;
    const limit = [10, 20, 50, 100].includes(Number(params.get('limit'))) ? Number(params.get('limit')) : 20;
    $('page-size').value = String(limit);
    let counts = null;
    renderChips(status, limit, counts);
    $('list-title').textContent = status ? 'Tasks: ' + status : 'Tasks';
    focusHeading(v, 'list-title');

    const query = new URLSearchParams({ limit: String(limit) });
    if (status) {
      query.set('status', status);
    }
    const pages = ['/api/tasks?' + query];
    let next = null;

    const load = async () => {
      const response = await api(pages[pages.length - 1]);
      const tasks = await response.json();
      if (!v.current()) {
        return;
      }
      next = nextLink(response);
      $('task-rows').replaceChildren(...(Array.isArray(tasks) ? tasks : []).map(taskRow));
      $('task-empty').hidden = Array.isArray(tasks) && tasks.length > 0;
      $('list-prev').disabled = pages.length < 2;
      $('list-next').disabled = !next;
      $('list-page').textContent = 'Page ' + pages.length;
      $('list-updated').textContent = 'Updated ' + new Date().toLocaleTimeString();
      clearError('refresh');
    };

    const loadCounts = async () => {
      if (!countsAvailable) {
        return;
      }
      try {
        counts = await apiJson('/api/tasks/counts');
      } catch (error) {
        if (error instanceof ApiError && (error.status === 404 || error.status === 405 || error.status === 400)) {
          countsAvailable = false; // this server has no counts: chips without them, and no more asking
          return;
        }
        throw error;
      }
      if (v.current() && counts && typeof counts === 'object') {
        renderChips(status, limit, counts);
      }
    };

    $('list-prev').onclick = () => {
      pages.pop();
      load().catch((error) => handle(error, 'view'));
    };
    $('list-next').onclick = () => {
      if (next) {
        pages.push(next);
        load().catch((error) => handle(error, 'view'));
      }
    };
    $('page-size').onchange = () => {
      location.hash = listHash(status, Number($('page-size').value));
    };

    await load();
    await loadCounts();
    every(REFRESH_MS, async () => {
      if (autoRefresh()) {
        await load();
        await loadCounts();
      }
    });
  }

  // ---------------------------------------------------------------- task page

  /** Items per second over the last seconds of polled counts, for servers without the events stream. */
  class RateMeter {
    constructor() {
      this.samples = [];
    }

    add(done) {
      const now = Date.now();
      this.samples.push({ at: now, done });
      while (this.samples.length > 2 && now - this.samples[0].at > 10000) {
        this.samples.shift();
      }
    }

    perSecond() {
      if (this.samples.length < 2) {
        return null;
      }
      const first = this.samples[0];
      const last = this.samples[this.samples.length - 1];
      const seconds = (last.at - first.at) / 1000;
      return seconds < 1 ? null : Math.max(0, (last.done - first.done) / seconds);
    }
  }

  async function showTask(id, params) {
    const v = beginView('task-view', 'Task ' + id);
    const base = '/api/tasks/' + encodeURIComponent(id);
    const state = {
      task: null, failedOnly: params.get('failed') === '1', pages: [], next: null, resultsDone: -1,
      lastAnnounced: null,
    };
    $('task-id').textContent = id;
    $('failed-only').checked = state.failedOnly;
    resetTask();
    focusHeading(v, 'task-title');

    const render = (task, liveData) => {
      if (!v.current()) {
        return;
      }
      state.task = task;
      renderTask(task, liveData, state);
    };

    const resultsUrl = () => {
      const query = new URLSearchParams({ offset: '0', limit: String(RESULTS_LIMIT) });
      if (state.failedOnly) {
        query.set('failed', 'true');
      }
      return base + '/results?' + query;
    };

    const loadResults = async () => {
      const response = await api(state.pages[state.pages.length - 1]);
      const results = await response.json();
      if (!v.current()) {
        return;
      }
      state.next = nextLink(response);
      state.resultsDone = state.task ? doneOf(state.task) : -1;
      renderResults(Array.isArray(results) ? results : [], state);
    };

    const firstResults = () => {
      state.pages = [resultsUrl()];
      return loadResults();
    };

    const task = await apiJson(base);
    render(task, {});
    await firstResults();

    $('results-prev').onclick = () => {
      state.pages.pop();
      loadResults().catch((error) => handle(error, 'view'));
    };
    $('results-next').onclick = () => {
      if (state.next) {
        state.pages.push(state.next);
        loadResults().catch((error) => handle(error, 'view'));
      }
    };
    $('results-refresh').onclick = () => loadResults().catch((error) => handle(error, 'action'));
    $('failed-only').onchange = () => {
      state.failedOnly = $('failed-only').checked;
      history.replaceState(null, '', taskHash(id) + (state.failedOnly ? '?failed=1' : ''));
      firstResults().catch((error) => handle(error, 'view'));
    };
    $('cancel-task').onclick = async () => {
      if (!window.confirm('Cancel task ' + id + '? Its running items are killed and the rest never run.')) {
        return;
      }
      $('cancel-task').disabled = true;
      try {
        render(await apiJson(base + '/cancel', { method: 'POST' }), {});
        clearError('action');
      } catch (error) {
        handle(error, 'action');
        if (state.task) {
          render(state.task, {});
        }
      }
    };
    $('retry-task').onclick = async () => {
      $('retry-task').disabled = true;
      try {
        render(await apiJson(base + '/retry-failed', { method: 'POST' }), {});
        clearError('action');
        follow(); // the stream of the finished run has ended: watch the new run
      } catch (error) {
        handle(error, 'action');
        if (state.task) {
          render(state.task, {});
        }
      }
    };
    for (const format of ['csv', 'jsonl']) {
      const link = $('download-' + format);
      link.href = base + '/results?format=' + format;
      link.onclick = (event) => {
        event.preventDefault();
        download(base, id, format, state.failedOnly).catch((error) => handle(error, 'action'));
      };
    }

    const finished = () => {
      // One last look at the results, with the final counts.
      loadResults().catch((error) => handle(error, 'refresh'));
    };

    let following = false;
    const follow = () => {
      if (following || !v.current()) {
        return;
      }
      following = true;
      watch(base, v, render, finished).catch((error) => handle(error, 'live')).finally(() => {
        following = false;
      });
    };
    if (!TERMINAL.has(task.status)) {
      follow();
    } else {
      setText('task-live', 'Finished.');
    }

    // While items finish, the first page of results follows (unless paused).
    every(REFRESH_MS, async () => {
      if (autoRefresh() && state.task && !TERMINAL.has(state.task.status) && state.pages.length === 1
          && doneOf(state.task) !== state.resultsDone) {
        await loadResults();
      }
    });
  }

  /** Live progress from the events stream; when this server has none, from polling the task every second. */
  async function watch(base, v, render, finished) {
    let reconnects = 0;
    while (v.current()) {
      let response;
      try {
        response = await api(base + '/events', { headers: { Accept: 'text/event-stream' } });
      } catch (error) {
        if (error instanceof ApiError && error.status !== 401) {
          // No stream here (404, 405 while the endpoint does not exist) or none free (503): polling tells the same.
          return poll(base, v, render, finished);
        }
        if (error instanceof ApiError || error.name === 'AbortError' || reconnects >= 5) {
          throw error;
        }
        reconnects++;
        await pause(2000);
        continue;
      }
      const type = response.headers.get('Content-Type') || '';
      if (!type.startsWith('text/event-stream') || !response.body) {
        return poll(base, v, render, finished);
      }
      setText('task-live', 'Live: following the event stream.');
      let last = null;
      try {
        await readEvents(response.body, (event, data) => {
          let task;
          try {
            task = JSON.parse(data);
          } catch (notJson) {
            return;
          }
          reconnects = 0;
          last = task;
          render(task, { streamed: true, event });
        });
      } catch (error) {
        if (error.name === 'AbortError') {
          return undefined;
        }
        // The connection broke: connect again (the first event is a full snapshot).
      }
      if (last && TERMINAL.has(last.status)) {
        setText('task-live', 'Finished.');
        finished();
        return undefined;
      }
      if (++reconnects > 5) {
        setText('task-live', 'The event stream keeps closing: polling instead.');
        return poll(base, v, render, finished);
      }
      await pause(1000);
    }
    return undefined;
  }

  function pause(ms) {
    return new Promise((resolve) => {
      view.timers.push(setTimeout(resolve, ms));
    });
  }

  /** Reads text/event-stream (the WHATWG rules: event, data, comments, blank line dispatches). */
  async function readEvents(body, onEvent) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let type = '';
    let data = [];
    const line = (text) => {
      if (text === '') {
        if (data.length > 0) {
          onEvent(type || 'message', data.join('\n'));
        }
        type = '';
        data = [];
        return;
      }
      if (text.startsWith(':')) {
        return; // a comment: the server's heartbeat
      }
      const colon = text.indexOf(':');
      const field = colon < 0 ? text : text.slice(0, colon);
      let value = colon < 0 ? '' : text.slice(colon + 1);
      if (value.startsWith(' ')) {
        value = value.slice(1);
      }
      if (field === 'event') {
        type = value;
      } else if (field === 'data') {
        data.push(value);
      }
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        break;
      }
      buffer += value;
      for (;;) {
        const end = buffer.search(/[\r\n]/);
        if (end < 0 || (buffer[end] === '\r' && end === buffer.length - 1)) {
          break; // no whole line yet (a \r may be the first half of \r\n)
        }
        const width = buffer[end] === '\r' && buffer[end + 1] === '\n' ? 2 : 1;
        line(buffer.slice(0, end));
        buffer = buffer.slice(end + width);
      }
    }
    if (buffer) {
      line(buffer);
    }
    line('');
  }

  async function poll(base, v, render, finished) {
    setText('task-live', 'Live: polling the task every second (the event stream is not available).');
    const rate = new RateMeter();
    while (v.current()) {
      const task = await apiJson(base);
      rate.add(doneOf(task));
      const perSecond = TERMINAL.has(task.status) ? null : rate.perSecond();
      const pending = Math.max(0, number(task.itemsTotal) - doneOf(task));
      render(task, {
        polled: true, itemsPerSecond: perSecond, etaSeconds: perSecond ? pending / perSecond : null,
      });
      if (TERMINAL.has(task.status)) {
        setText('task-live', 'Finished.');
        finished();
        return;
      }
      await pause(POLL_MS);
    }
  }

  function resetTask() {
    for (const id of ['task-status', 'task-owner', 'task-times', 'task-progress-text', 'task-live', 'task-command']) {
      $(id).textContent = '';
    }
    for (const id of ['count-succeeded', 'count-failed', 'count-running', 'count-skipped', 'count-pending', 'count-rate', 'count-eta']) {
      setText(id, null);
    }
    $('task-progress').max = 1;
    $('task-progress').value = 0;
    $('task-halt').hidden = true;
    $('task-waiting').hidden = true;
    $('task-command-box').hidden = true;
    $('result-rows').replaceChildren();
    $('results-info').textContent = '';
    $('results-empty').hidden = true;
  }

  function renderTask(task, liveData, state) {
    const total = number(task.itemsTotal);
    const done = doneOf(task);
    const terminal = TERMINAL.has(task.status);
    $('task-status').className = 'badge ' + (STATUSES.includes(task.status) ? task.status : '');
    setText('task-status', task.status);
    setText('task-owner', [task.owner ? 'Owner: ' + task.owner : null,
      task.priority ? 'priority ' + task.priority : null,
      task.maxParallel ? 'at most ' + task.maxParallel + ' items at once' : null].filter(Boolean).join(' · '));
    const created = toMillis(task.createdAt);
    const ended = toMillis(task.finishedAt);
    setText('task-times', [created ? 'created ' + new Date(created).toLocaleString() : null,
      ended ? 'finished ' + new Date(ended).toLocaleString() : null].filter(Boolean).join(' · '));

    const progress = $('task-progress');
    progress.max = Math.max(total, 1);
    progress.value = done;
    const percent = total > 0 ? Math.floor((done * 100) / total) : (terminal ? 100 : 0);
    // Announced (aria-live) only when the whole percent or the status changes, not on every event.
    const announce = done + ' of ' + total + ' items done (' + percent + '%), ' + task.status;
    if (announce !== state.lastAnnounced) {
      state.lastAnnounced = announce;
      setText('task-progress-text', announce);
    }

    setText('count-succeeded', number(task.itemsSucceeded));
    setText('count-failed', number(task.itemsFailed));
    setText('count-running', terminal ? 0 : (task.itemsRunning ?? null));
    setText('count-skipped', task.itemsSkipped ?? null);
    setText('count-pending', task.itemsPending ?? Math.max(0, total - done));
    const perSecond = task.itemsPerSecond ?? liveData.itemsPerSecond;
    setText('count-rate', terminal || perSecond === null || perSecond === undefined ? null : Number(perSecond).toFixed(1));
    const eta = task.etaSeconds ?? liveData.etaSeconds;
    setText('count-eta', terminal ? null : duration(eta));

    const halted = task.halted === true || (typeof task.haltReason === 'string' && task.haltReason);
    $('task-halt').hidden = !halted;
    setText('task-halt', halted ? 'Halted: ' + (task.haltReason || 'the halt rule was met') : '');
    const waiting = [task.waitingReason, task.lastError].filter((text) => typeof text === 'string' && text);
    $('task-waiting').hidden = waiting.length === 0;
    setText('task-waiting', waiting.join(' · '));

    const command = task.command || task.templateFunction;
    if (typeof command === 'string' && command) {
      setText('task-command', command);
      $('task-command-box').hidden = false;
    }
    $('cancel-task').disabled = terminal;
    $('retry-task').disabled = task.status !== 'FAILED';
  }

  function failedResult(result) {
    return result.skipped === true || result.timedOut === true || result.exitCode !== 0;
  }

  function output(label, text, truncated, key, open) {
    if (typeof text !== 'string' || text === '') {
      return null;
    }
    const lines = text.split('\n').filter((line, i, all) => i < all.length - 1 || line !== '').length;
    const details = el('details', { 'data-key': key, open: open.has(key) },
      el('summary', { text: label + ' (' + lines + (lines === 1 ? ' line' : ' lines') + (truncated ? ', truncated' : '') + ')' }),
      el('pre', { text }));
    return details;
  }

  function resultRow(result, open) {
    const failed = failedResult(result);
    let exit;
    if (result.skipped === true) {
      exit = 'skipped';
    } else if (result.timedOut === true) {
      exit = 'timeout (' + result.exitCode + ')';
    } else {
      exit = result.exitCode;
    }
    const outputs = [output('stdout', result.stdout, result.stdoutTruncated, result.index + ':stdout', open),
      output('stderr', result.stderr, result.stderrTruncated, result.index + ':stderr', open)].filter(Boolean);
    return el('tr', { 'data-index': result.index, className: failed ? 'failed' : null },
      el('td', { className: 'num', text: result.index }),
      el('td', { className: 'item' }, result.item === null || result.item === undefined
        ? el('span', { className: 'muted', text: '(none)' }) : el('code', { text: result.item })),
      el('td', { className: 'num' + (failed ? ' exit-bad' : ''), text: exit }),
      el('td', { className: 'num wide', text: millisText(result.durationMs) }),
      el('td', { className: 'num wide', text: result.attempts ?? '—' }),
      el('td', { className: 'wide', text: result.workerId || '—' }),
      el('td', {}, ...(outputs.length ? outputs : [el('span', { className: 'muted', text: '—' })])));
  }

  function renderResults(results, state) {
    // Outputs the user opened stay open when the table is read again.
    const open = new Set([...$('result-rows').querySelectorAll('details[open]')].map((d) => d.dataset.key));
    const shown = state.failedOnly ? results.filter(failedResult) : results;
    $('result-rows').replaceChildren(...shown.map((result) => resultRow(result, open)));
    $('results-empty').hidden = shown.length > 0;
    $('results-empty').textContent = state.failedOnly ? 'No failed item here.' : 'No result yet.';
    $('results-prev').disabled = state.pages.length < 2;
    $('results-next').disabled = !state.next;
    $('results-info').textContent = shown.length > 0
      ? (shown.length === 1 ? 'Item ' + shown[0].index : 'Items ' + shown[0].index + '–' + shown[shown.length - 1].index)
        + (state.next ? ', more on the next page' : '')
      : '';
  }

  /** Fetches an export with the token and hands it to the browser as a file. */
  async function download(base, id, format, failedOnly) {
    const response = await api(base + '/results?format=' + format + (failedOnly ? '&failed=true' : ''), {
      headers: { Accept: format === 'csv' ? 'text/csv, */*' : 'application/jsonl, application/x-ndjson, */*' },
    });
    const type = (response.headers.get('Content-Type') || '').toLowerCase();
    if (type.startsWith('application/json') || type.startsWith('application/problem+json')) {
      throw new ApiError(response.status, 'This scheduler does not export results as ' + format.toUpperCase() + ' yet.');
    }
    const blob = await response.blob();
    const disposition = /filename="?([^";]+)"?/i.exec(response.headers.get('Content-Disposition') || '');
    const name = disposition ? disposition[1].replace(/[\\/]/g, '_') : id + '-results.' + format;
    const url = URL.createObjectURL(blob);
    const link = el('a', { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // ---------------------------------------------------------------- workers

  // What each busy slot runs (task and item index); a worker of an earlier version only says which tasks.
  function slotRuns(worker) {
    if (Array.isArray(worker.slots)) {
      return worker.slots.map((slot) => ({ id: slot.taskId, label: ' #' + slot.itemIndex }));
    }
    return (Array.isArray(worker.runningTasks) ? worker.runningTasks : []).map((id) => ({ id, label: '' }));
  }

  function workerRow(worker) {
    const running = slotRuns(worker);
    return el('tr', { 'data-worker-id': worker.id },
      el('td', {}, el('code', { text: worker.id })),
      el('td', { className: 'wide', text: worker.host || '—' }),
      el('td', { className: 'num', text: worker.threads ?? '—' }),
      el('td', { className: 'num', text: worker.busyThreads ?? '—' }),
      el('td', {}, timeElement(worker.lastHeartbeat)),
      el('td', { className: 'wide' }, ...(running.length
        ? running.map((run, i) => [i > 0 ? ', ' : null, el('a', { href: taskHash(run.id) }, el('code', { text: run.id })), run.label]).flat()
        : [el('span', { className: 'muted', text: '—' })])));
  }

  async function showWorkers() {
    const v = beginView('workers-view', 'Workers');
    focusHeading(v, 'workers-title');
    const load = async () => {
      const workers = await apiJson('/api/workers');
      if (!v.current()) {
        return;
      }
      $('worker-rows').replaceChildren(...(Array.isArray(workers) ? workers : []).map(workerRow));
      $('workers-empty').hidden = Array.isArray(workers) && workers.length > 0;
      $('workers-updated').textContent = 'Updated ' + new Date().toLocaleTimeString();
      clearError('refresh');
    };
    await load();
    every(REFRESH_MS, async () => {
      if (autoRefresh()) {
        await load();
      }
    });
  }

  // ---------------------------------------------------------------- start

  function start() {
    // ?task=<id> and ?status=S (links from elsewhere) become the hash routes.
    const query = new URLSearchParams(location.search);
    if (query.has('task')) {
      history.replaceState(null, '', location.pathname + taskHash(query.get('task')));
    } else if (query.has('status')) {
      history.replaceState(null, '', location.pathname + listHash(query.get('status'), Number(query.get('limit')) || 20));
    }
    $('auto-refresh').checked = sessionStorage.getItem(REFRESH_KEY) !== 'off';
    $('auto-refresh').addEventListener('change', () => {
      sessionStorage.setItem(REFRESH_KEY, autoRefresh() ? 'on' : 'off');
    });
    $('login-form').addEventListener('submit', (event) => {
      login(event).catch((error) => handle(error, 'view'));
    });
    $('logout').addEventListener('click', logout);
    window.addEventListener('hashchange', route);
    route();
  }

  start();
})();
