// Batch detail: live progress over SSE, counts, errors with their index, webhook attempts,
// per-memory results paged, cancel.
import { api, streamEvents } from './api.js';
import { h, clear, fill } from './dom.js';
import {
  TERMINAL, bytes, errorBox, number, progressBar, statusBadge, timeEl,
} from './format.js';

const RESULTS_PAGE = 100;
const QUIET_MS = 3000; // no SSE event for this long: poll the status

export async function batchPage(main, { params, signal, ctx }) {
  const id = params[0] || '';
  const path = `/v1/memory/batch/status/${encodeURIComponent(id)}`;

  const heading = h('h1', { tabindex: -1 }, 'Batch');
  const idLine = h('p', { class: 'mono id-line' }, id);
  const statusText = h('span', { id: 'batch-status', class: 'status-text' });
  const liveText = h('span', { class: 'live muted', id: 'live-indicator' });
  const reasonText = h('p', { class: 'muted', id: 'batch-reason', hidden: true });
  const bar = progressBar('Batch progress');
  const cancelBtn = h('button', { type: 'button', class: 'button-danger', id: 'cancel-batch' },
    'Cancel batch');
  const historyLink = h('a', { class: 'button button-quiet', id: 'history-link', hidden: true },
    'Execution history');
  const notices = h('div');
  const countsDl = h('dl', { class: 'stats' });
  const timesDl = h('dl', { class: 'kv' });
  const errorsBox = h('div');
  const webhookBox = h('div');
  const resultsBody = h('tbody');
  const resultsMore = h('button', { type: 'button', id: 'results-more', hidden: true },
    'Load more results');
  const resultsSummary = h('p', { class: 'muted', id: 'results-summary' });

  fill(main, 
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/batches' }, '← Batches')),
    h('div', { class: 'page-head' }, h('div', {}, heading, idLine),
      h('div', { class: 'actions' }, historyLink, cancelBtn)),
    h('section', { class: 'card', 'aria-labelledby': 'progress-title' },
      h('h2', { id: 'progress-title', class: 'sr-only' }, 'Progress'),
      h('div', { class: 'status-line', role: 'status', 'aria-live': 'polite' },
        'Status: ', statusText, ' ', liveText),
      reasonText,
      bar.el,
      countsDl),
    notices,
    h('div', { class: 'grid-2' },
      h('section', { class: 'card', 'aria-labelledby': 'times-title' },
        h('h2', { id: 'times-title' }, 'Timing'), timesDl),
      h('section', { class: 'card', 'aria-labelledby': 'webhook-title' },
        h('h2', { id: 'webhook-title' }, 'Webhook'), webhookBox)),
    h('section', { class: 'card', 'aria-labelledby': 'errors-title' },
      h('h2', { id: 'errors-title' }, 'Errors'), errorsBox),
    h('section', { class: 'card', 'aria-labelledby': 'results-title' },
      h('h2', { id: 'results-title' }, 'Results'),
      h('div', { class: 'table-scroll' },
        h('table', { class: 'data-table results-table' },
          h('caption', { class: 'sr-only' }, 'Per-memory results in index order'),
          h('thead', {}, h('tr', {}, ['Index', 'Status', 'Memory ID', 'Error'].map((t) =>
            h('th', { scope: 'col' }, t)))),
          resultsBody)),
      resultsSummary,
      h('div', { class: 'pager' }, resultsMore)));

  let current = null;

  function render(st) {
    current = st;
    heading.textContent = `Batch ${st.status === 'processing' || st.status === 'queued' ? 'in progress' : st.status}`;
    if (statusText.dataset.status !== st.status) {
      // Only a status change is announced (role=status), not every progress tick.
      fill(statusText, statusBadge(st.status));
      statusText.dataset.status = st.status;
    }
    // Why a failed or terminated batch ended.
    reasonText.hidden = !st.reason;
    reasonText.textContent = st.reason ? `Reason: ${st.reason}` : '';
    bar.update(st);
    cancelBtn.disabled = TERMINAL.has(st.status) || st.status === 'cancelling';
    if (ctx.usage && ctx.usage.edition === 'cloud' && st.durable !== false) {
      historyLink.hidden = false;
      historyLink.href = `#/history/${encodeURIComponent(st.workflow_id || st.batch_id)}`;
    }
    const c = st.request_counts || {};
    fill(countsDl, 
      stat('Total', number(c.total)),
      stat('Succeeded', number(c.succeeded), 'ok'),
      stat('Failed', number(c.failed), Number(c.failed) ? 'failed' : ''),
      stat('Canceled', number(c.canceled), Number(c.canceled) ? 'canceled' : ''),
      stat('In flight', number(c.processing)),
      stat('Retries', number(st.retries)),
      stat('Content', bytes(st.total_content_size)));
    fill(timesDl, 
      kv('Created', timeEl(st.created_at, { compact: true })),
      kv('Started', timeEl(st.started_at, { compact: true })),
      kv('Updated', timeEl(st.updated_at, { compact: true })),
      kv('Finished', timeEl(st.completed_at, { compact: true })),
      kv('Durable', st.durable ? 'yes (survives restarts)' : 'no (in-memory)'),
      kv('Workflow', h('span', { class: 'mono' }, st.workflow_id || '—')));
    renderErrors(st.errors || []);
    renderWebhook(st.webhook || {});
  }

  function renderErrors(errors) {
    clear(errorsBox);
    if (!errors.length) {
      errorsBox.append(h('p', { class: 'muted' }, 'No errors.'));
      return;
    }
    errorsBox.append(h('ul', { class: 'error-list' }, errors.map((e) =>
      h('li', {}, h('span', { class: 'index' }, `#${e.index}`), ' ',
        h('span', {}, e.error), e.code ? h('span', { class: 'muted' }, ` (code ${e.code})`) : null))));
  }

  function renderWebhook(w) {
    clear(webhookBox);
    if (!w.url) {
      webhookBox.append(h('p', { class: 'muted' }, 'No webhook for this batch.'));
      return;
    }
    webhookBox.append(h('dl', { class: 'kv' },
      kv('URL', h('span', { class: 'mono wrap' }, w.url)),
      kv('Status', statusBadge(w.status || 'none')),
      kv('Attempts', number(w.attempts)),
      kv('Last status code', w.last_status_code ? String(w.last_status_code) : '—'),
      w.last_error ? kv('Last error', w.last_error) : null));
    const deliveries = w.deliveries || [];
    if (deliveries.length) {
      webhookBox.append(h('table', { class: 'data-table deliveries-table' },
        h('caption', {}, 'Delivery attempts'),
        h('thead', {}, h('tr', {}, ['#', 'At', 'Status code', 'Error'].map((t) =>
          h('th', { scope: 'col' }, t)))),
        h('tbody', {}, deliveries.map((d, i) => h('tr', {},
          h('td', { 'data-label': '#' }, String(i + 1)),
          h('td', { 'data-label': 'At' }, timeEl(d.at)),
          h('td', { 'data-label': 'Status code' }, d.status_code ? String(d.status_code) : '—'),
          h('td', { 'data-label': 'Error' }, d.error || '—'))))));
    } else {
      webhookBox.append(h('p', { class: 'muted' }, 'No delivery attempt yet.'));
    }
  }

  // Results, paged in index order.
  let resultsAfter = null;
  let resultsShown = 0;
  let resultsGeneration = 0; // a reload makes pages still in flight stale
  async function loadResults() {
    const generation = resultsGeneration;
    resultsMore.disabled = true;
    try {
      const page = await api(`/v1/memory/batch/${encodeURIComponent(id)}/results`, {
        query: { after: resultsAfter, limit: RESULTS_PAGE }, signal,
      });
      if (generation !== resultsGeneration) return;
      const frag = document.createDocumentFragment();
      for (const r of page.results || []) {
        frag.append(h('tr', { dataset: { index: r.index } },
          h('td', { 'data-label': 'Index' }, String(r.index)),
          h('td', { 'data-label': 'Status' }, statusBadge(r.status)),
          h('td', { 'data-label': 'Memory ID', class: 'mono' }, r.memoryId || '—'),
          h('td', { 'data-label': 'Error' }, r.error || '')));
      }
      resultsBody.append(frag);
      resultsShown += (page.results || []).length;
      resultsAfter = page.next_after ?? null;
      resultsMore.hidden = resultsAfter === null;
      const total = current ? Number(current.request_counts?.total || 0) : 0;
      resultsSummary.textContent = `Showing ${number(resultsShown)} of ${number(total)} results.`;
    } catch (err) {
      if (err.name !== 'AbortError') resultsSummary.replaceChildren(errorBox(err, 'Results'));
    } finally {
      resultsMore.disabled = false;
    }
  }
  function reloadResults() {
    clear(resultsBody);
    resultsAfter = null;
    resultsShown = 0;
    resultsGeneration += 1;
    return loadResults();
  }
  resultsMore.addEventListener('click', async () => {
    await loadResults();
    resultsMore.focus();
  });

  cancelBtn.addEventListener('click', async () => {
    cancelBtn.disabled = true;
    clear(notices);
    try {
      const st = await api(`/v1/memory/batch/${encodeURIComponent(id)}/cancel`, {
        method: 'POST', signal,
      });
      // The stream may have shown the batch cancelled before this answer ("cancelling")
      // came back: an ended batch stays ended.
      if (!current || !TERMINAL.has(current.status)) render(st);
      notices.append(h('div', { class: 'notice', role: 'status' },
        'Cancel requested: processed memories stay, the rest are canceled.'));
    } catch (err) {
      if (err.name !== 'AbortError') {
        notices.append(errorBox(err, 'Cancel failed'));
        cancelBtn.disabled = current ? TERMINAL.has(current.status) : false;
      }
    }
  });

  // Live progress: SSE over fetch (the key goes in a header); reconnects until `done`. A
  // watchdog polls the status when the stream has been quiet for a while, so a stalled
  // stream never freezes the page.
  async function follow() {
    let finished = false;
    let lastEvent = Date.now();
    let stream = null;
    const watchdog = setInterval(async () => {
      if (finished || signal.aborted || Date.now() - lastEvent < QUIET_MS) return;
      try {
        const st = await api(path, { signal });
        lastEvent = Date.now();
        if (TERMINAL.has(st.status) && !finished) {
          render(st);
          finished = true;
          if (stream) stream.abort();
        }
      } catch {
        /* the next tick tries again */
      }
    }, QUIET_MS);
    signal.addEventListener('abort', () => clearInterval(watchdog));
    try {
      while (!signal.aborted && !finished) {
        liveText.textContent = '● live';
        stream = new AbortController();
        const abortStream = () => stream.abort();
        signal.addEventListener('abort', abortStream);
        try {
          await streamEvents(`${path}/events`, {
            signal: stream.signal,
            onEvent: (type, data) => {
              lastEvent = Date.now();
              let st;
              try {
                st = JSON.parse(data);
              } catch {
                return;
              }
              if (type === 'progress' || type === 'done') render(st);
              if (type === 'done') finished = true;
            },
          });
        } catch (err) {
          if (signal.aborted || finished) break;
          if (err.status === 404 || err.status === 401) break;
        } finally {
          signal.removeEventListener('abort', abortStream);
        }
        if (!finished && !signal.aborted) {
          liveText.textContent = 'reconnecting…';
          await new Promise((r) => setTimeout(r, 1000));
          try {
            const st = await api(path, { signal });
            render(st);
            if (TERMINAL.has(st.status)) finished = true;
          } catch {
            /* retry */
          }
        }
      }
    } finally {
      clearInterval(watchdog);
    }
    liveText.textContent = '';
    if (finished && !signal.aborted) {
      reloadResults();
      followWebhook();
    }
  }

  // The webhook is delivered after the batch ends (the SSE stream is closed by then): poll,
  // backing off, while a delivery is pending.
  async function followWebhook() {
    let delay = 1000;
    while (!signal.aborted && current && current.webhook && current.webhook.url &&
           current.webhook.status === 'pending') {
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(30_000, delay * 2);
      if (signal.aborted) return;
      try {
        render(await api(path, { signal }));
      } catch {
        /* the next round tries again */
      }
    }
  }

  try {
    render(await api(path, { signal }));
  } catch (err) {
    if (err.name === 'AbortError') return;
    fill(main, 
      h('p', { class: 'breadcrumb' }, h('a', { href: '#/batches' }, '← Batches')),
      h('h1', { tabindex: -1 }, 'Batch not found'),
      errorBox(err));
    return;
  }
  reloadResults();
  if (!TERMINAL.has(current.status)) follow();
  else followWebhook();
}

function stat(label, value, tone = '') {
  return h('div', { class: `stat${tone ? ` stat-${tone}` : ''}` }, h('dt', {}, label), h('dd', {}, value));
}

function kv(label, value) {
  return h('div', { class: 'kv-row' }, h('dt', {}, label), h('dd', {}, value));
}
