// Memory search (BM25 over the user's memories).
import { api } from './api.js';
import { h, clear, fill } from './dom.js';
import { errorBox, number, timeEl } from './format.js';

export async function searchPage(main, { query, signal }) {
  const input = h('input', {
    id: 'search-query', type: 'search', name: 'query', required: true, autocomplete: 'off',
    placeholder: 'e.g. quarterly planning notes', value: query.get('q') || '',
  });
  const max = h('input', {
    id: 'search-max', type: 'number', name: 'max_memories', min: 1, max: 100, value: 10,
    inputmode: 'numeric',
  });
  const button = h('button', { type: 'submit' }, 'Search');
  const status = h('p', { class: 'muted', role: 'status', id: 'search-status' });
  const results = h('ol', { class: 'search-results', id: 'search-results' });
  const form = h('form', { class: 'search-form', role: 'search' },
    h('div', { class: 'field grow' }, h('label', { for: 'search-query' }, 'Search memories'), input),
    h('div', { class: 'field narrow-field' }, h('label', { for: 'search-max' }, 'Max results'), max),
    h('div', { class: 'field field-button' }, button));

  fill(main, h('h1', { tabindex: -1 }, 'Search'), h('section', { class: 'card' }, form),
    status, results);

  async function run() {
    const q = input.value.trim();
    if (!q) return;
    button.disabled = true;
    status.textContent = 'Searching…';
    clear(results);
    try {
      const body = await api('/v1/memory/search', {
        method: 'POST', body: { query: q }, query: { max_memories: Number(max.value) || 10 }, signal,
      });
      const memories = (body && body.data && body.data.memories) || [];
      status.textContent = memories.length
        ? `${number(memories.length)} ${memories.length === 1 ? 'memory' : 'memories'} found for “${q}”.`
        : `No memories match “${q}”.`;
      for (const m of memories) results.append(resultItem(m));
    } catch (err) {
      if (err.name !== 'AbortError') {
        status.textContent = '';
        results.append(h('li', {}, errorBox(err, 'Search failed')));
      }
    } finally {
      button.disabled = false;
    }
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    run();
  });
  if (input.value) run();
}

function resultItem(m) {
  const topics = Array.isArray(m.topics) ? m.topics : (m.metadata && m.metadata.topics) || [];
  return h('li', { class: 'card memory', dataset: { memoryId: m.id || m.memoryId } },
    h('p', { class: 'memory-content' }, m.content),
    h('div', { class: 'memory-meta' },
      typeof m.score === 'number' ? h('span', { class: 'tag' }, `score ${m.score.toFixed(3)}`) : null,
      m.type ? h('span', { class: 'tag' }, m.type) : null,
      Array.isArray(topics) ? topics.map((t) => h('span', { class: 'tag tag-topic' }, String(t))) : null,
      h('span', { class: 'mono muted' }, m.id || m.memoryId),
      timeEl(m.createdAt),
      m.batch_id ? h('a', { href: `#/batch/${encodeURIComponent(m.batch_id)}` }, 'From batch') : null));
}
