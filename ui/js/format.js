// Formatting and shared widgets: status badges, progress bars, times, the upgrade banner.
import { h, clear } from './dom.js';

export const TERMINAL = new Set(['completed', 'partial', 'failed', 'cancelled', 'terminated']);
export const STATUSES = ['queued', 'processing', 'completed', 'partial', 'failed', 'cancelling',
  'cancelled', 'terminated'];

const dateFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
  second: '2-digit',
});

const compactFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

/** <time> with the local rendering of an RFC 3339 string; "—" when absent. */
export function timeEl(iso, { compact = false } = {}) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return h('span', {}, iso);
  const sameYear = d.getFullYear() === new Date().getFullYear();
  const text = (compact && sameYear ? compactFormat : dateFormat).format(d);
  return h('time', { datetime: iso, title: iso }, text);
}

export function number(n) {
  return Number(n || 0).toLocaleString('en-US');
}

export function bytes(n) {
  n = Number(n || 0);
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function statusBadge(status) {
  return h('span', { class: `badge badge-${status}`, dataset: { status } }, status);
}

/** Processed share of a batch: succeeded + failed over total, in whole percent. */
export function percentDone(st) {
  const c = st.request_counts || {};
  const total = Number(c.total || 0);
  if (total <= 0) return TERMINAL.has(st.status) ? 100 : 0;
  const done = Number(c.succeeded || 0) + Number(c.failed || 0);
  if (st.status === 'completed' || st.status === 'partial') return 100;
  return Math.min(100, Math.floor((done * 100) / total));
}

/**
 * A progress bar (role=progressbar, aria-valuenow in percent) with succeeded / failed /
 * canceled segments. Returns {el, update(status)}.
 */
export function progressBar(label, { compact = false } = {}) {
  const ok = h('span', { class: 'seg seg-ok' });
  const bad = h('span', { class: 'seg seg-failed' });
  const cancel = h('span', { class: 'seg seg-canceled' });
  const bar = h('div', {
    class: `progress${compact ? ' progress-compact' : ''}`,
    role: 'progressbar',
    'aria-label': label,
    'aria-valuemin': 0,
    'aria-valuemax': 100,
    'aria-valuenow': 0,
  }, h('div', { class: 'progress-track' }, ok, bad, cancel));
  const text = h('span', { class: 'progress-text' }, '0%');
  const el = h('div', { class: 'progress-wrap' }, bar, text);
  function update(st) {
    const c = st.request_counts || {};
    const total = Math.max(1, Number(c.total || 0));
    const pct = percentDone(st);
    bar.setAttribute('aria-valuenow', String(pct));
    bar.setAttribute('aria-valuetext',
      `${pct}% — ${number(Number(c.succeeded || 0) + Number(c.failed || 0))} of ${number(c.total)} processed, ${st.status}`);
    bar.dataset.status = st.status;
    ok.style.width = `${(100 * Number(c.succeeded || 0)) / total}%`;
    bad.style.width = `${(100 * Number(c.failed || 0)) / total}%`;
    cancel.style.width = `${(100 * Number(c.canceled || 0)) / total}%`;
    text.textContent = `${pct}%`;
  }
  return { el, update };
}

/** Upgrade / limit banner. kind 'oss' → "Upgrade to Cloud" with link and benefits. */
export function limitBanner({ edition, message, upgradeUrl, benefits = [], role, id, onDismiss,
  heading }) {
  const oss = edition !== 'cloud';
  const title = heading || (oss ? 'Upgrade to Cloud' : 'Over the batch limit');
  const headingId = `${id || 'banner'}-title`;
  const children = [
    h('h2', { id: headingId, class: 'banner-title' }, title),
    message ? h('p', { class: 'banner-message' }, message) : null,
  ];
  if (oss && benefits.length) {
    children.push(h('ul', { class: 'banner-benefits', 'aria-label': 'Cloud benefits' },
      benefits.map((b) => h('li', {}, b))));
  }
  const actions = h('div', { class: 'banner-actions' });
  if (oss && upgradeUrl) {
    actions.append(h('a', {
      class: 'button button-upgrade', href: upgradeUrl, target: '_blank', rel: 'noopener',
    }, 'Upgrade to Cloud', h('span', { class: 'sr-only' }, ' (opens in a new tab)')));
  }
  if (onDismiss) {
    actions.append(h('button', { type: 'button', class: 'button-quiet', onclick: onDismiss },
      'Dismiss'));
  }
  if (actions.childNodes.length) children.push(actions);
  return h('section', {
    class: `banner ${oss ? 'banner-upgrade' : 'banner-warning'}`,
    id,
    role: role || null,
    'aria-labelledby': headingId,
    dataset: { testid: 'upgrade-banner' },
  }, children);
}

/** Error message box for a failed request. */
export function errorBox(err, prefix = '') {
  const text = err && err.message ? err.message : String(err);
  return h('div', { class: 'notice notice-error', role: 'alert' }, prefix ? `${prefix}: ${text}` : text);
}

export function setBusy(el, busy) {
  if (busy) el.setAttribute('aria-busy', 'true');
  else el.removeAttribute('aria-busy');
}

export { clear };
