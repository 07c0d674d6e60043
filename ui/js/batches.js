// Batches list: newest first, filter by status, paged with "More" (next_after cursor).
// Rows of running batches refresh themselves every few seconds, and batches submitted since
// (from anywhere: another tab, the API) appear at the top without a reload.
import { api } from './api.js';
import { h, clear, fill } from './dom.js';
import {
  STATUSES, TERMINAL, errorBox, number, progressBar, statusBadge, timeEl,
} from './format.js';

const POLL_MS = 2000;

export async function batchesPage(main, { query, signal }) {
  const status = STATUSES.includes(query.get('status')) ? query.get('status') : '';
  const limit = Math.min(1000, Math.max(1, Number(query.get('limit')) || 20));

  const select = h('select', {
    id: 'status-filter',
    onchange: () => {
      const params = new URLSearchParams(query);
      if (select.value) params.set('status', select.value);
      else params.delete('status');
      const s = params.toString();
      location.hash = `#/batches${s ? `?${s}` : ''}`;
    },
  }, h('option', { value: '' }, 'All statuses'),
  STATUSES.map((s) => h('option', { value: s, selected: s === status }, s)));

  const tbody = h('tbody');
  const table = h('table', { class: 'data-table batches-table' },
    h('caption', { class: 'sr-only' }, 'Batches, newest first'),
    h('thead', {}, h('tr', {},
      ['Batch', 'Status', 'Progress', 'Counts', 'Created', 'Finished'].map((t) =>
        h('th', { scope: 'col' }, t)))),
    tbody);
  const tableBox = h('div', { class: 'table-scroll', hidden: true }, table);
  const summary = h('p', { class: 'muted', role: 'status', id: 'batches-summary' });
  const more = h('button', { type: 'button', id: 'batches-more', hidden: true }, 'More');
  const errors = h('div');
  const refresh = h('button', { type: 'button', class: 'button-quiet', onclick: () => reload() },
    'Refresh');

  fill(main, 
    h('div', { class: 'page-head' },
      h('h1', { tabindex: -1 }, 'Batches'),
      h('a', { class: 'button', href: '#/submit' }, 'New batch')),
    h('div', { class: 'toolbar' },
      h('div', { class: 'field-inline' }, h('label', { for: 'status-filter' }, 'Status'), select),
      refresh),
    errors,
    tableBox,
    summary,
    h('div', { class: 'pager' }, more));

  let cursor = null;
  let cursorUsed = false;
  let shown = 0;
  const live = new Map(); // batch_id → update(status) for rows not yet finished
  const known = new Set(); // batch ids shown

  function addRow(st, { atTop = false } = {}) {
    known.add(st.batch_id);
    const bar = progressBar(`Progress of batch ${st.batch_id}`, { compact: true });
    const statusCell = h('td', { 'data-label': 'Status' });
    const countsCell = h('td', { 'data-label': 'Counts', class: 'counts' });
    const finishedCell = h('td', { 'data-label': 'Finished' });
    const row = h('tr', { dataset: { batchId: st.batch_id } },
      h('th', { scope: 'row', 'data-label': 'Batch' },
        h('a', { href: `#/batch/${encodeURIComponent(st.batch_id)}`, class: 'mono id-link' },
          st.batch_id),
        st.durable ? null : h('span', { class: 'tag', title: 'In-memory batch: not durable' },
          'in-memory')),
      statusCell,
      h('td', { 'data-label': 'Progress' }, bar.el),
      countsCell,
      h('td', { 'data-label': 'Created' }, timeEl(st.created_at, { compact: true })),
      finishedCell);
    function update(s) {
      fill(statusCell, statusBadge(s.status));
      bar.update(s);
      const c = s.request_counts || {};
      fill(countsCell, h('div', {},
        h('span', {}, `${number(c.succeeded)} / ${number(c.total)} succeeded`),
        Number(c.failed) ? h('span', { class: 'count-failed' }, `${number(c.failed)} failed`) : null,
        Number(c.canceled) ? h('span', { class: 'count-canceled' }, `${number(c.canceled)} canceled`)
          : null,
        Number(c.processing) ? h('span', { class: 'muted' }, `${number(c.processing)} in flight`)
          : null));
      fill(finishedCell, timeEl(s.completed_at, { compact: true }));
      if (TERMINAL.has(s.status)) live.delete(s.batch_id);
    }
    update(st);
    if (!TERMINAL.has(st.status)) live.set(st.batch_id, update);
    if (atTop) tbody.prepend(row);
    else tbody.append(row);
  }

  // The first page again: batches not shown yet are newer than every row (newest first).
  async function addNewBatches() {
    const page = await api('/v1/memory/batch', { query: { status, limit }, signal });
    const fresh = (page.batches || []).filter((st) => !known.has(st.batch_id));
    for (const st of fresh.reverse()) addRow(st, { atTop: true });
    if (fresh.length) {
      shown += fresh.length;
      tableBox.hidden = false;
      summary.textContent = `Showing ${number(shown)} batch${shown === 1 ? '' : 'es'}${status ? ` with status ${status}` : ''}${cursor ? '; more available' : ''}.`;
    }
  }

  async function loadPage() {
    more.disabled = true;
    try {
      const page = await api('/v1/memory/batch', { query: { status, limit, after: cursor }, signal });
      const batches = page.batches || [];
      for (const st of batches) addRow(st);
      shown += batches.length;
      tableBox.hidden = shown === 0;
      cursor = page.next_after || null;
      more.hidden = !cursor;
      summary.textContent = shown === 0
        ? (status ? `No ${status} batches.` : 'No batches yet. Submit one with “New batch”.')
        : `Showing ${number(shown)} batch${shown === 1 ? '' : 'es'}${status ? ` with status ${status}` : ''}${cursor ? '; more available' : (cursorUsed ? '; no more batches' : '')}.`;
      cursorUsed = true;
    } catch (err) {
      if (err.name !== 'AbortError') errors.append(errorBox(err, 'Could not load batches'));
    } finally {
      more.disabled = false;
    }
  }

  async function reload() {
    clear(tbody);
    clear(errors);
    live.clear();
    known.clear();
    cursor = null;
    cursorUsed = false;
    shown = 0;
    await loadPage();
  }

  more.addEventListener('click', async () => {
    await loadPage();
    more.focus();
  });

  const timer = setInterval(async () => {
    if (cursorUsed) await addNewBatches().catch(() => { /* the next tick tries again */ });
    for (const [id, update] of [...live].slice(0, 25)) {
      try {
        update(await api(`/v1/memory/batch/status/${encodeURIComponent(id)}`, { signal }));
      } catch {
        /* the next tick tries again */
      }
    }
  }, POLL_MS);
  signal.addEventListener('abort', () => clearInterval(timer));

  await loadPage();
}
