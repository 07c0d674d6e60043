// Tiny DOM helpers: every text goes through textContent, never innerHTML.

/**
 * h('a', {href: '#/x', class: 'btn', onclick: fn}, 'text', child, [more]) builds an element.
 * Attributes: `class`, `text`, `on<event>` handlers, `dataset` object, booleans (set when true),
 * everything else via setAttribute. Children: nodes, strings/numbers, arrays; null is skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name === 'text') el.textContent = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let idCounter = 0;
/** A unique id for label/input pairs. */
export function uid(prefix = 'f') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** Replaces el's children (nulls skipped, strings as text). */
export function fill(el, ...children) {
  return append(clear(el), children);
}
