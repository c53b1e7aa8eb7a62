// Talking to the server's JSON API: a GET that throws on failure, and the Error a failed
// answer turns into (carrying its problem+json details, when it has them).

// Turns a failed fetch into an Error carrying the problem+json details.
export async function failure(res) {
  let problem = null;
  try { problem = await res.json(); } catch (_) { /* not JSON */ }
  const err = new Error((problem && problem.detail) || ("HTTP " + res.status));
  err.problem = problem;
  err.status = res.status;
  return err;
}

export async function getJSON(path, signal) {
  const res = await fetch(path, { headers: { Accept: "application/json" }, signal, cache: "no-store" });
  if (!res.ok) throw await failure(res);
  return res.json();
}
