// papr console: key handling, hash routing, the edition's usage (limits, upgrade banner).
import { api, clearKey, getKey, onUnauthorized, setKey } from './js/api.js';
import { h, clear, fill } from './js/dom.js';
import { limitBanner } from './js/format.js';
import { batchesPage } from './js/batches.js';
import { batchPage } from './js/batch.js';
import { historyPage } from './js/history.js';
import { searchPage } from './js/search.js';
import { submitPage } from './js/submit.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const session = document.getElementById('session');
const editionEl = document.getElementById('edition');
const globalBanner = document.getElementById('global-banner');

const routes = {
  batches: batchesPage,
  batch: batchPage,
  history: historyPage,
  search: searchPage,
  submit: submitPage,
};

const DISMISS_KEY = 'papr.bannerDismissed';

const ctx = {
  usage: null,
  bannerSuppressed: false,
  async refreshUsage() {
    try {
      ctx.usage = await api('/v1/usage');
    } catch (err) {
      if (err.status === 401) return;
    }
    renderChrome();
  },
  suppressGlobalBanner(on) {
    ctx.bannerSuppressed = on;
    renderGlobalBanner();
  },
};

let pageController = null;

function renderChrome() {
  const u = ctx.usage;
  nav.hidden = !u;
  session.hidden = !u;
  if (u) {
    const cloud = u.edition === 'cloud';
    // A plans table names the caller's plan (config/plans.h); without one it is the edition.
    const plan = u.limits && u.limits.plan && u.limits.plan !== u.edition ? ` · plan ${u.limits.plan}` : '';
    editionEl.textContent = (cloud ? 'Cloud edition' : 'Open-source edition') + plan;
    editionEl.className = `edition ${cloud ? 'edition-cloud' : 'edition-oss'}`;
    editionEl.title = `Batches up to ${u.limits ? u.limits.max_batch_size : '?'} memories` +
      (u.durable_batches ? ', durable' : ', in memory');
  }
  renderGlobalBanner();
}

function renderGlobalBanner() {
  clear(globalBanner);
  const u = ctx.usage;
  if (!u || !u.exceeds_limits || ctx.bannerSuppressed) return;
  if (sessionStorage.getItem(DISMISS_KEY) === String(u.usage?.batches_rejected_for_size)) return;
  const rejected = u.usage ? u.usage.batches_rejected_for_size : 0;
  const message = [
    rejected ? `${rejected} of your batches ${rejected === 1 ? 'was' : 'were'} refused for size (largest: ${u.usage.max_batch_size_attempted} memories; limit ${u.limits.max_batch_size}).` : '',
    u.recommendation || '',
  ].filter(Boolean).join(' ');
  globalBanner.append(limitBanner({
    id: 'usage-banner',
    edition: u.edition,
    message,
    upgradeUrl: u.upgrade_url,
    benefits: u.cloud_benefits || [],
    onDismiss: () => {
      sessionStorage.setItem(DISMISS_KEY, String(u.usage?.batches_rejected_for_size));
      renderGlobalBanner();
      main.focus();
    },
  }));
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [pathPart, queryPart = ''] = raw.split('?');
  const segments = pathPart.split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  return { name: segments[0] || 'batches', params: segments.slice(1), query: new URLSearchParams(queryPart) };
}

function setCurrentNav(name) {
  const current = name === 'batch' || name === 'history' ? 'batches' : name;
  for (const a of nav.querySelectorAll('a[data-route]')) {
    if (a.dataset.route === current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

let firstRoute = true;
async function route() {
  if (pageController) pageController.abort();
  pageController = new AbortController();
  if (!getKey()) {
    renderKeyForm();
    return;
  }
  if (!ctx.usage) {
    await ctx.refreshUsage();
    if (!ctx.usage) {
      if (!getKey()) return; // 401: the key form is showing
      fill(main, h('h1', { tabindex: -1 }, 'Server unavailable'),
        h('p', {}, 'The console cannot reach the papr server. '),
        h('button', { type: 'button', onclick: () => route() }, 'Try again'));
      return;
    }
  }
  const { name, params, query } = parseHash();
  const page = routes[name];
  setCurrentNav(name);
  ctx.bannerSuppressed = false;
  renderGlobalBanner();
  const signal = pageController.signal;
  if (!page) {
    fill(main, h('h1', { tabindex: -1 }, 'Not found'),
      h('p', {}, 'No such page. ', h('a', { href: '#/batches' }, 'Go to batches')));
  } else {
    const done = page(main, { params, query, signal, ctx });
    document.title = `${titleOf(name)} · papr console`;
    if (!firstRoute) focusHeading();
    await done;
  }
  firstRoute = false;
}

function titleOf(name) {
  return { batches: 'Batches', batch: 'Batch', history: 'History', search: 'Search',
    submit: 'Submit a batch' }[name] || 'Not found';
}

function focusHeading() {
  const h1 = main.querySelector('h1');
  if (h1) h1.focus({ preventScroll: false });
}

function renderKeyForm(message) {
  ctx.usage = null;
  renderChrome();
  setCurrentNav('');
  document.title = 'Enter API key · papr console';
  const input = h('input', {
    id: 'api-key', name: 'api-key', type: 'password', autocomplete: 'off', required: true,
    'aria-describedby': 'api-key-help',
  });
  const error = h('p', { class: 'form-error', role: 'alert', id: 'key-error' }, message || '');
  const button = h('button', { type: 'submit', id: 'save-key' }, 'Continue');
  const form = h('form', { class: 'card key-form', id: 'key-form' },
    h('h1', { tabindex: -1 }, 'Connect to papr'),
    h('p', { id: 'api-key-help', class: 'help' },
      'Enter an API key of this server. It is sent as ', h('code', {}, 'X-API-Key'),
      ' with every request and kept only for this browser tab (session storage).'),
    h('div', { class: 'field' }, h('label', { for: 'api-key' }, 'API key'), input),
    error,
    h('div', { class: 'form-actions' }, button));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const key = input.value.trim();
    if (!key) {
      error.textContent = 'Enter a key.';
      input.focus();
      return;
    }
    button.disabled = true;
    error.textContent = '';
    setKey(key);
    try {
      ctx.usage = await api('/v1/usage');
    } catch (err) {
      clearKey();
      button.disabled = false;
      error.textContent = err.status === 401 ? 'The server does not know this key.' : err.message;
      input.focus();
      input.select();
      return;
    }
    renderChrome();
    if (!location.hash || location.hash === '#' || location.hash === '#/') location.hash = '#/batches';
    firstRoute = false;
    await route();
  });
  fill(main, form);
  input.focus();
}

onUnauthorized(() => {
  clearKey();
  if (document.getElementById('key-form')) return; // the key form reports it itself
  if (pageController) pageController.abort();
  renderKeyForm('The server refused the key. Enter a valid one.');
});

document.getElementById('change-key').addEventListener('click', () => {
  clearKey();
  if (pageController) pageController.abort();
  renderKeyForm();
});

document.getElementById('skip-link').addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});

window.addEventListener('hashchange', () => route());
route();
