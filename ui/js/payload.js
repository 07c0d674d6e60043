// Decoded history payloads (the "payload" and "options" JSON of a history event, as the
// workflow type's formatter reads them) as labelled key/value lists. Bytes that did not decode
// arrive as an escaped string and are shown as code.
import { h } from './dom.js';

const MAX_DEPTH = 3;

// What the payload of an event of each type is.
const PAYLOAD_LABELS = {
  WorkflowExecutionStarted: 'Input',
  ActivityTaskScheduled: 'Input',
  StartChildWorkflowExecutionInitiated: 'Child input',
  WorkflowExecutionSignaled: 'Signal input',
  ActivityTaskCompleted: 'Result',
  WorkflowExecutionCompleted: 'Result',
  WorkflowExecutionCanceled: 'Result',
  ChildWorkflowExecutionCompleted: 'Child result',
};

function scalarText(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v === '' ? '""' : v;
  return String(v);
}

function isScalar(v) {
  return v === null || typeof v !== 'object';
}

function valueNode(v, depth) {
  if (isScalar(v)) return h('span', { class: v === null ? 'payload-null' : null }, scalarText(v));
  if (Array.isArray(v)) {
    if (v.length === 0) return h('span', { class: 'payload-null' }, 'none');
    if (v.every(isScalar)) return h('span', {}, v.map(scalarText).join(', '));
  }
  if (depth >= MAX_DEPTH) return h('code', {}, JSON.stringify(v));
  if (Array.isArray(v)) {
    return h('ol', { class: 'payload-list' }, v.map((item) => h('li', {}, valueNode(item, depth + 1))));
  }
  return fieldList(v, depth + 1);
}

function fieldList(obj, depth) {
  return h('dl', { class: 'payload-fields' }, Object.entries(obj).map(([key, v]) =>
    h('div', { class: 'payload-row', dataset: { key } }, h('dt', {}, key), h('dd', {}, valueNode(v, depth)))));
}

/** A labelled view of one decoded field (`name` is "payload" or "options"). */
export function payloadView(eventType, name, value) {
  const label = name === 'options' ? 'Options' : (PAYLOAD_LABELS[eventType] || 'Payload');
  const body = value !== null && typeof value === 'object' && !Array.isArray(value)
    ? fieldList(value, 1)
    : h('code', { class: 'payload-bytes' }, scalarText(value));
  return h('section', { class: 'payload', dataset: { field: name }, 'aria-label': label },
    h('h3', { class: 'payload-label' }, label), body);
}
