// Calls to the playground's JSON API. Every failure becomes an Error whose
// message is the server's `error` text (and `column` for formula errors).

export async function get(path) {
  return answer(await fetch(path));
}

export async function post(path, body, { text = false, signal } = {}) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal,
  });
  return answer(response, text);
}

async function answer(response, text = false) {
  if (response.ok) return text ? response.text() : response.json();
  let message = `HTTP ${response.status}`;
  let column = null;
  try {
    const doc = await response.json();
    message = doc.error ?? message;
    column = doc.column ?? null;
  } catch (_) { /* not JSON: keep the status */ }
  const error = new Error(message);
  error.column = column;
  throw error;
}
