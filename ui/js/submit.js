// Batch submit form: one memory per line, or a JSON array (of strings or AddMemoryRequest
// objects). Over the edition's max_batch_size the form shows the limit / "Upgrade to Cloud"
// banner; a 413 answer shows it with the server's upgrade_info and link.
import { api } from './api.js';
import { h, clear, fill } from './dom.js';
import { errorBox, limitBanner, number } from './format.js';

/** Parses the textarea: {memories} or {error}. */
export function parseMemories(text) {
  const trimmed = text.trim();
  if (!trimmed) return { memories: [] };
  if (trimmed.startsWith('[')) {
    let value;
    try {
      value = JSON.parse(trimmed);
    } catch (err) {
      return { error: `Not a valid JSON array: ${err.message}` };
    }
    if (!Array.isArray(value)) return { error: 'The JSON must be an array of memories.' };
    const memories = [];
    for (let i = 0; i < value.length; i += 1) {
      const item = value[i];
      if (typeof item === 'string') memories.push({ content: item });
      else if (item && typeof item === 'object' && !Array.isArray(item)) memories.push(item);
      else return { error: `Item ${i} must be a string or an object with "content".` };
    }
    return { memories };
  }
  return {
    memories: trimmed.split(/\r?\n/).map((l) => l.trim()).filter(Boolean)
      .map((content) => ({ content })),
  };
}

export async function submitPage(main, { signal, ctx }) {
  const limits = (ctx.usage && ctx.usage.limits) || {};
  const maxBatch = Number(limits.max_batch_size || 0);
  const edition = (ctx.usage && ctx.usage.edition) || '';
  const durable = !!(ctx.usage && ctx.usage.durable_batches);

  const textarea = h('textarea', {
    id: 'memories', name: 'memories', rows: 12, required: true, spellcheck: 'false', wrap: 'off',
    'aria-describedby': 'memories-help memories-count',
    placeholder: 'One memory per line…\nor a JSON array: ["first", {"content": "second", "metadata": {"topics": ["x"]}}]',
  });
  const count = h('p', { id: 'memories-count', class: 'count-line', 'aria-live': 'polite' });
  const concurrency = h('input', {
    id: 'max-concurrency', name: 'max_concurrency', type: 'number', min: 1, inputmode: 'numeric',
    'aria-describedby': 'max-concurrency-help',
    max: limits.max_concurrent_tasks || null,
  });
  const webhook = h('input', {
    id: 'webhook-url', name: 'webhook_url', type: 'url', autocomplete: 'off',
    placeholder: 'https://example.com/hooks/papr', 'aria-describedby': 'webhook-help',
  });
  const submit = h('button', { type: 'submit', id: 'submit-batch' }, 'Submit batch');
  const bannerSlot = h('div', { id: 'form-banner', 'aria-live': 'polite' });
  const messages = h('div', { id: 'submit-messages' });

  const form = h('form', { class: 'card submit-form', novalidate: true },
    bannerSlot,
    h('div', { class: 'field' },
      h('label', { for: 'memories' }, 'Memories'),
      h('p', { id: 'memories-help', class: 'help' },
        'One memory per line, or a JSON array of strings or memory objects (',
        h('code', {}, 'content'), ', ', h('code', {}, 'type'), ', ', h('code', {}, 'metadata'), ', …).',
        maxBatch ? ` This server accepts up to ${number(maxBatch)} memories per batch.` : ''),
      textarea,
      count),
    h('fieldset', { class: 'options' },
      h('legend', {}, 'Options'),
      h('div', { class: 'field' },
        h('label', { for: 'max-concurrency' }, 'Max concurrency (optional)'),
        concurrency,
        h('p', { id: 'max-concurrency-help', class: 'help' },
          durable ? `Memories in flight at once (at most ${number(limits.max_concurrent_tasks)}).`
            : 'Memories in flight at once; used by durable (cloud) batches.')),
      h('div', { class: 'field' },
        h('label', { for: 'webhook-url' }, 'Webhook URL (optional)'),
        webhook,
        h('p', { id: 'webhook-help', class: 'help' },
          'Called once the batch ends (Standard Webhooks).'))),
    messages,
    h('div', { class: 'form-actions' }, submit));

  fill(main, h('h1', { tabindex: -1 }, 'Submit a batch'), form);

  let rejected = null; // details of the last 413 answer

  function showBanner(parsedCount) {
    clear(bannerSlot);
    const usage = ctx.usage || {};
    if (rejected) {
      bannerSlot.append(limitBanner({
        id: 'limit-banner', edition, role: 'alert',
        message: rejected.upgrade_info || rejected.message,
        upgradeUrl: rejected.upgrade_url || usage.upgrade_url,
        benefits: usage.cloud_benefits || [],
      }));
    } else if (maxBatch && parsedCount > maxBatch) {
      bannerSlot.append(limitBanner({
        id: 'limit-banner', edition,
        message: edition === 'cloud'
          ? `${number(parsedCount)} memories entered; a batch holds at most ${number(maxBatch)}. Split them into smaller batches.`
          : `${number(parsedCount)} memories entered; the open-source edition accepts at most ${number(maxBatch)} per batch. Papr Cloud takes larger batches.`,
        upgradeUrl: usage.upgrade_url,
        benefits: usage.cloud_benefits || [],
      }));
    }
    ctx.suppressGlobalBanner(bannerSlot.childNodes.length > 0);
  }

  let parsed = { memories: [] };
  let timer = null;
  function recount() {
    parsed = parseMemories(textarea.value);
    if (parsed.error) {
      count.textContent = parsed.error;
      count.classList.add('count-error');
    } else {
      const n = parsed.memories.length;
      count.classList.remove('count-error');
      count.classList.toggle('count-over', !!maxBatch && n > maxBatch);
      count.textContent = `${number(n)} ${n === 1 ? 'memory' : 'memories'}` +
        (maxBatch ? ` (limit ${number(maxBatch)})` : '');
    }
    showBanner(parsed.error ? 0 : parsed.memories.length);
  }
  textarea.addEventListener('input', () => {
    rejected = null;
    clearTimeout(timer);
    timer = setTimeout(recount, 120);
  });
  signal.addEventListener('abort', () => {
    clearTimeout(timer);
    ctx.suppressGlobalBanner(false);
  });
  recount();

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearTimeout(timer);
    recount();
    clear(messages);
    if (parsed.error) {
      messages.append(errorBox(parsed.error));
      textarea.focus();
      return;
    }
    if (!parsed.memories.length) {
      messages.append(errorBox('Enter at least one memory.'));
      textarea.focus();
      return;
    }
    const body = { memories: parsed.memories };
    const mc = concurrency.value.trim();
    if (mc) {
      if (!/^\d+$/.test(mc) || Number(mc) < 1) {
        messages.append(errorBox('Max concurrency must be a whole number of at least 1.'));
        concurrency.focus();
        return;
      }
      body.max_concurrency = Number(mc);
    }
    if (webhook.value.trim()) body.webhook_url = webhook.value.trim();
    submit.disabled = true;
    submit.textContent = 'Submitting…';
    try {
      const answer = await api('/v1/memory/batch', { method: 'POST', body, signal });
      ctx.refreshUsage();
      location.hash = `#/batch/${encodeURIComponent(answer.batch_id)}`;
    } catch (err) {
      if (err.name === 'AbortError') return;
      if (err.status === 413 && err.details && err.details.max_batch_size !== undefined) {
        rejected = { ...err.details, message: err.message };
        messages.append(errorBox(err, 'Refused'));
        showBanner(parsed.memories.length);
        ctx.refreshUsage();
      } else if (err.status === 422 && Array.isArray(err.details.errors)) {
        messages.append(h('div', { class: 'notice notice-error', role: 'alert' },
          h('p', {}, `${err.message}`),
          h('ul', { class: 'error-list' }, err.details.errors.slice(0, 50).map((e) =>
            h('li', {}, h('span', { class: 'index' }, `#${e.index}`), ' ', e.error))),
          err.details.errors.length > 50
            ? h('p', {}, `… and ${number(err.details.errors.length - 50)} more.`) : null));
      } else {
        messages.append(errorBox(err, 'Submit failed'));
      }
    } finally {
      submit.disabled = false;
      submit.textContent = 'Submit batch';
    }
  });
}
