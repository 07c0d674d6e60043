// The /v1 client: every request carries the key from sessionStorage as X-API-Key.

const KEY_NAME = 'papr.apiKey';

export function getKey() {
  try {
    return sessionStorage.getItem(KEY_NAME) || '';
  } catch {
    return '';
  }
}

export function setKey(key) {
  sessionStorage.setItem(KEY_NAME, key);
}

export function clearKey() {
  sessionStorage.removeItem(KEY_NAME);
}

/** A non-2xx answer; `body` is the server's error envelope when it sent one. */
export class ApiError extends Error {
  constructor(status, body, fallback) {
    const message = (body && typeof body.error === 'string' && body.error) || fallback ||
      `HTTP ${status}`;
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body || null;
    this.details = (body && body.details) || {};
  }
}

let unauthorizedHandler = null;
/** Called with the ApiError whenever the server answers 401 (key missing or unknown). */
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

/** Calls the API; resolves with the parsed JSON body, rejects with ApiError. */
export async function api(path, { method = 'GET', body, query, signal, headers = {} } = {}) {
  const init = {
    method,
    signal,
    headers: { 'X-API-Key': getKey(), Accept: 'application/json', ...headers },
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(withQuery(path, query), init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, null, 'The server cannot be reached.');
  }
  const text = await response.text();
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, json, text.slice(0, 200));
    if (response.status === 401 && unauthorizedHandler) unauthorizedHandler(error);
    throw error;
  }
  return json;
}

/**
 * Reads a Server-Sent Events stream with fetch() (EventSource cannot send X-API-Key).
 * Calls onEvent(type, data) per event; resolves when the server closes the stream.
 */
export async function streamEvents(path, { signal, onEvent }) {
  let response;
  try {
    response = await fetch(path, {
      signal,
      headers: { 'X-API-Key': getKey(), Accept: 'text/event-stream' },
      cache: 'no-store',
    });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, null, 'The server cannot be reached.');
  }
  if (!response.ok) {
    let json = null;
    try {
      json = await response.json();
    } catch {
      json = null;
    }
    const error = new ApiError(response.status, json);
    if (response.status === 401 && unauthorizedHandler) unauthorizedHandler(error);
    throw error;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const dispatch = (block) => {
    let type = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length) onEvent(type, data.join('\n'));
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      dispatch(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
    }
  }
  if (buffer.trim()) dispatch(buffer);
}
