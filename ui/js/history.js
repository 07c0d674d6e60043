// Execution history of a workflow: event timeline, 200 events per page, "Load more" appends
// the next page only (a 30,000-event history is never rendered at once). Cloud edition only.
import { api } from './api.js';
import { h, clear, fill } from './dom.js';
import { errorBox, number, statusBadge, timeEl } from './format.js';
import { payloadView } from './payload.js';

const PAGE = 200;

function historyHref(id) {
  return `#/history/${encodeURIComponent(id)}`;
}

function eventCategory(type) {
  if (type.startsWith('Workflow')) return 'workflow';
  if (type.startsWith('Activity')) return 'activity';
  if (type.startsWith('ChildWorkflow') || type.startsWith('StartChild')) return 'child';
  if (type.startsWith('Timer')) return 'timer';
  return 'other';
}

export async function historyPage(main, { params, signal, ctx }) {
  const id = params.join('/');
  const chunk = id.match(/^(.*)\/chunk-\d+$/);
  const parent = chunk ? chunk[1] : null;
  const heading = h('h1', { tabindex: -1 }, 'Execution history');
  const crumbs = h('p', { class: 'breadcrumb' },
    h('a', { href: '#/batches' }, '← Batches'),
    parent ? [' · ', h('a', { href: historyHref(parent) }, 'Parent workflow')] : null,
    !parent ? [' · ', h('a', { href: `#/batch/${encodeURIComponent(id)}` }, 'Batch')] : null);
  fill(main, crumbs, heading, h('p', { class: 'mono id-line' }, id));

  const edition = ctx.usage ? ctx.usage.edition : '';
  if (edition && edition !== 'cloud') {
    main.append(cloudOnly(ctx));
    return;
  }

  const meta = h('dl', { class: 'stats' });
  const list = h('ol', { class: 'timeline', id: 'timeline', 'aria-label': 'History events' });
  const summary = h('p', { class: 'muted', id: 'history-summary', role: 'status' });
  const more = h('button', { type: 'button', id: 'history-more', hidden: true }, 'Load more');
  const errors = h('div');
  main.append(h('section', { class: 'card' }, meta), errors, list, summary,
    h('div', { class: 'pager' }, more));

  let after = 0;
  let loaded = 0;
  let total = 0;

  async function loadPage() {
    more.disabled = true;
    try {
      const page = await api(`/v1/admin/workflows/${encodePath(id)}/history`, {
        query: { after, limit: PAGE }, signal,
      });
      total = Number(page.history_length || 0);
      fill(meta, 
        stat('Type', page.workflow_type || '—'),
        stat('Status', statusBadge(page.status || 'unknown')),
        stat('Events', number(total)));
      const frag = document.createDocumentFragment();
      for (const e of page.events || []) frag.append(eventItem(e));
      list.append(frag);
      loaded += (page.events || []).length;
      after = page.next_after ?? null;
      more.hidden = after === null;
      more.textContent = after === null ? 'Load more'
        : `Load more (next ${number(Math.min(PAGE, total - loaded))} events)`;
      summary.textContent = `Showing ${number(loaded)} of ${number(total)} events.`;
      return true;
    } catch (err) {
      if (err.name === 'AbortError') return false;
      if (err.status === 404) {
        if (!edition || edition !== 'cloud') {
          fill(errors, cloudOnly(ctx));
        } else {
          fill(errors, errorBox(err, 'No history'));
        }
      } else {
        fill(errors, errorBox(err, 'Could not load the history'));
      }
      return false;
    } finally {
      more.disabled = false;
    }
  }

  more.addEventListener('click', async () => {
    await loadPage();
    if (!more.hidden) more.focus();
  });

  await loadPage();
}

function encodePath(id) {
  // Child ids look like "<batch>/chunk-<k>": keep the slashes, encode the rest.
  return id.split('/').map(encodeURIComponent).join('/');
}

function activityTag(e) {
  if (e.activity_id === undefined) return null;
  const type = e.activity_type ? ` · ${e.activity_type}` : '';
  return h('span', { class: 'tag' }, `activity ${e.activity_id}${type}`);
}

// The decoded payloads, with the raw attribute line folded away under them (it still shows
// the bytes); events without payloads show the attribute line itself.
function eventFields(e) {
  const decoded = ['payload', 'options'].filter((name) => name in e)
    .map((name) => payloadView(e.type, name, e[name]));
  const details = e.details ? h('code', { class: 'event-details' }, e.details) : null;
  if (decoded.length === 0) return details;
  return [decoded, details ? h('details', { class: 'event-raw' },
    h('summary', {}, 'Raw attributes'), details) : null];
}

function eventItem(e) {
  const cat = eventCategory(e.type || '');
  return h('li', { class: `event event-${cat}`, dataset: { eventId: e.event_id, type: e.type } },
    h('span', { class: 'event-id', 'aria-label': `Event ${e.event_id}` }, String(e.event_id)),
    h('div', { class: 'event-body' },
      h('div', { class: 'event-head' },
        h('strong', { class: 'event-type' }, e.type),
        timeEl(e.time),
        activityTag(e),
        e.child_workflow_id ? h('a', { class: 'child-link', href: historyHref(e.child_workflow_id) },
          `Child workflow ${e.child_workflow_id}`) : null),
      eventFields(e)));
}

function stat(label, value) {
  return h('div', { class: 'stat' }, h('dt', {}, label), h('dd', {}, value));
}

function cloudOnly(ctx) {
  const u = ctx.usage || {};
  return h('section', { class: 'notice notice-info', id: 'history-unavailable', role: 'status' },
    h('p', {}, h('strong', {}, 'Execution histories are available in the cloud edition.'),
      ' This server runs the open-source edition: batches run in memory, without a durable ',
      'workflow history.'),
    u.upgrade_url ? h('p', {}, h('a', { href: u.upgrade_url, target: '_blank', rel: 'noopener' },
      'Learn about Papr Cloud')) : null);
}
