// The console's only way to the server: accord's JSON API on the same origin.  The session cookie
// is HttpOnly (the page never sees it); the CSRF token lives in this module's memory only, never
// in localStorage, and goes with every state-changing request.

let csrf = null;

export class ApiError extends Error {
  constructor(status, title, description) {
    super(description ? `${title}: ${description}` : title);
    this.status = status;
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (UNSAFE.has(method) && csrf) headers['X-CSRF-Token'] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    throw new ApiError(res.status, (data && data.title) || `HTTP ${res.status}`, data && data.description);
  }
  return data;
}

export async function currentSession() {
  try {
    const s = await api('GET', '/api/session');
    csrf = s.csrf_token;
    return s;
  } catch (e) {
    if (e.status === 401) return null;
    throw e;
  }
}

export async function login(username, password) {
  const s = await api('POST', '/api/session', { username, password });
  csrf = s.csrf_token;
  return s;
}

export async function logout() {
  try {
    await api('DELETE', '/api/session');
  } finally {
    csrf = null;
  }
}

export const qs = (params) =>
  new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString();
